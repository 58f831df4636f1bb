"""SPEC §8 (an SSO identity is linked only through the tenant's IdP; docs/accounts.md Tenant SSO: a
new IdP never inherits the old one's identities). The settings page keeps both protocols' fields
("only the fields of the protocol in use are read"), and a save unlinked the identities only when
the issuer or the IdP entity ID changed. Switching from SAML to OpenID Connect (or back) with the
other protocol's fields still stored changed neither: the SAML IdP's subjects stayed linked to the
connection and the OIDC issuer, a different IdP, inherited them. Another protocol is another IdP."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from audit.models import AuditEvent
from tests.accounts.saml_idp import SAMLIdP
from tests.accounts.test_review_s46_saml_sp_addresses import address, shown_addresses
from tests.accounts.test_review_s47_stable_sp_addresses import owner_browser, save, save_saml
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_switching_protocol_to_an_issuer_stored_earlier_inherits_no_identity() -> None:
    tenant, browser, url = owner_browser()
    save(browser, url, protocol="oidc", issuer="https://idp.acme.example", client_id="tater", default_role="member")
    idp = SAMLIdP()
    save_saml(browser, url, idp)
    provider = address(shown_addresses(browser.get(url).content.decode()), "ACS URL").rstrip("/").split("/")[-2]
    SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="jane@acme.test")  # a SAML NameID

    save(browser, url, protocol="oidc")  # back to the issuer still stored: another IdP than the SAML one

    assert not SocialAccount.objects.filter(provider=provider).exists()
    entry = AuditEvent.objects.filter(action="tenant.updated", tenant=tenant).order_by("-pk").first()
    assert entry is not None and entry.changes["sso"]["identities_unlinked"]["count"] == 1
