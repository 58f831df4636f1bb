"""docs/accounts.md Tenant SSO (SPEC §8): a new IdP never inherits the old one's identities, and
the IdP in use keeps them. The settings page keeps both protocols' fields, "only the fields of the
protocol in use are read", yet a save unlinked every identity when the SAML IdP entity ID changed
while the tenant signs in through OpenID Connect (or the issuer while it uses SAML): the IdP in
use was the same, and everyone linked to it had to be matched again. Only a change of protocol,
or of the field naming the IdP of the protocol in use, is a new IdP; the page's warning says so."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from audit.models import AuditEvent
from tests.accounts.saml_idp import SAMLIdP
from tests.accounts.test_review_s46_saml_sp_addresses import address, shown_addresses
from tests.accounts.test_review_s47_stable_sp_addresses import owner_browser, save, save_saml
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ISSUER = "https://idp.acme.example"


def latest_sso_change(tenant: object) -> dict[str, object]:
    entry = AuditEvent.objects.filter(action="tenant.updated", tenant=tenant).order_by("-pk").first()
    assert entry is not None
    changes: dict[str, object] = entry.changes["sso"]
    return changes


def warning(page: str) -> str:
    start = page.index('<p role="note" class="notice">')
    return page[start : page.index("</p>", start)]


def test_editing_the_saml_entity_id_while_oidc_is_in_use_keeps_the_identities() -> None:
    tenant, browser, url = owner_browser()
    save(browser, url, protocol="oidc", issuer=ISSUER, client_id="tater", idp_entity_id="https://old.saml.example")
    provider = address(shown_addresses(browser.get(url).content.decode()), "ACS URL").rstrip("/").split("/")[-2]
    jane = SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="oidc-sub-1")

    note = warning(browser.get(url).content.decode())
    assert "issuer URL" in note and "entity id" not in note.lower(), note

    save(browser, url, idp_entity_id="https://new.saml.example")  # a field of the protocol not in use

    assert SocialAccount.objects.filter(pk=jane.pk, provider=provider).exists()
    changes = latest_sso_change(tenant)
    assert changes["idp_entity_id"] == {"from": "https://old.saml.example", "to": "https://new.saml.example"}
    assert "identities_unlinked" not in changes


def test_editing_the_issuer_while_saml_is_in_use_keeps_the_identities() -> None:
    tenant, browser, url = owner_browser()
    idp = SAMLIdP()
    save_saml(browser, url, idp, issuer=ISSUER, client_id="tater")
    provider = address(shown_addresses(browser.get(url).content.decode()), "ACS URL").rstrip("/").split("/")[-2]
    jane = SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="jane@acme.test")

    note = warning(browser.get(url).content.decode())
    assert "entity ID" in note and "issuer" not in note.lower(), note

    save(browser, url, issuer="https://login.other.example")  # a field of the protocol not in use

    assert SocialAccount.objects.filter(pk=jane.pk, provider=provider).exists()
    changes = latest_sso_change(tenant)
    assert changes["issuer"] == {"from": ISSUER, "to": "https://login.other.example"}
    assert "identities_unlinked" not in changes


def test_editing_the_field_of_the_protocol_in_use_still_unlinks() -> None:
    tenant, browser, url = owner_browser()
    idp = SAMLIdP()
    save_saml(browser, url, idp, issuer=ISSUER, client_id="tater")
    provider = address(shown_addresses(browser.get(url).content.decode()), "ACS URL").rstrip("/").split("/")[-2]
    SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="jane@acme.test")

    save(browser, url, idp_entity_id="https://another.saml.example")

    assert not SocialAccount.objects.filter(provider=provider).exists()
    assert latest_sso_change(tenant)["identities_unlinked"] == {"provider": provider, "count": 1}
