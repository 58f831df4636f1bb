"""Review s47 (SPEC §8: SSO through Okta/OIDC and SAML): setting up Okta SAML is chicken-and-egg.
Okta's app wizard asks for the Single sign-on URL (our ACS) and Audience URI (our SP entity ID)
before it shows the IdP entity ID, SSO URL and certificate Tater needs, yet the settings page
showed our addresses only after a first save (each holds a provider id given on saving), and
changing the IdP entity ID (or the OIDC issuer) gave them a new value, silently breaking what was
pasted into Okta. GitHub and Sentry keep them stable per connection; so does Tater now: the
addresses (and the OIDC redirect URI) are shown before the first save and stay the same across
saves and IdP changes, while a new IdP still inherits none of the old one's identities."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from audit.models import AuditEvent
from tests.accounts.saml_idp import SAMLIdP
from tests.accounts.test_review_s46_saml_sp_addresses import HOST, address, assert_served, shown_addresses
from tests.accounts.test_review_s47_stored_private_key_not_shown import browser_data
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def owner_browser() -> tuple[Any, Client, str]:
    tenant, owner, _orgs = make_tenant(name="Acme")
    browser = Client(HTTP_HOST=HOST)
    browser.force_login(owner)
    return tenant, browser, f"/accounts/sso/?tenant={tenant.public_id}"


def save(browser: Client, url: str, **values: str) -> None:
    page = browser.get(url).content.decode()
    answer = browser.post(url, {**browser_data(page), **values})
    assert answer.status_code == 302, answer.context["form"].errors


def save_saml(browser: Client, url: str, idp: SAMLIdP, **values: str) -> None:
    """Save the test IdP as the tenant's SAML IdP through the owner's page."""
    save(
        browser,
        url,
        protocol="saml",
        idp_entity_id=idp.entity_id,
        idp_sso_url=idp.sso_url,
        idp_x509_cert=idp.keys.cert_pem,
        **values,
    )


def test_the_saml_addresses_are_shown_before_the_first_save_and_kept_by_it() -> None:
    _tenant, browser, url = owner_browser()
    idp = SAMLIdP()

    before = shown_addresses(browser.get(url).content.decode())
    for label in ("ACS URL", "Entity ID", "Metadata URL"):
        assert address(before, label).startswith(f"http://{HOST}/accounts/saml/"), before

    save_saml(browser, url, idp, default_role="member")
    after = shown_addresses(browser.get(url).content.decode())
    assert after == before
    assert_served(after)


def test_a_new_idp_entity_id_keeps_the_addresses_but_not_the_old_identities() -> None:
    tenant, browser, url = owner_browser()
    idp = SAMLIdP()
    save_saml(browser, url, idp, default_role="member")
    before = shown_addresses(browser.get(url).content.decode())
    provider = address(before, "ACS URL").rstrip("/").split("/")[-2]
    SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="00u-jane")

    save(browser, url, idp_entity_id="https://idp2.acme.test/saml")

    assert shown_addresses(browser.get(url).content.decode()) == before
    # The new IdP's "00u-jane" is nobody yet: the old IdP's identities are unlinked, and counted.
    assert not SocialAccount.objects.filter(provider=provider).exists()
    entry = AuditEvent.objects.filter(action="tenant.updated", tenant=tenant).order_by("-pk").first()
    assert entry is not None and entry.changes["sso"]["identities_unlinked"]["count"] == 1


def test_the_oidc_redirect_uri_is_shown_before_the_first_save_and_kept_across_a_new_issuer() -> None:
    _tenant, browser, url = owner_browser()
    page = browser.get(url).content.decode()
    assert "/accounts/oidc/" in page and "/login/callback/" in page
    shown = page[page.index("Redirect URI") :].split("</code>")[0]

    save(browser, url, protocol="oidc", issuer="https://idp.acme.example", client_id="tater", default_role="member")
    save(browser, url, issuer="https://login.other.example")

    page = browser.get(url).content.decode()
    assert page[page.index("Redirect URI") :].split("</code>")[0] == shown
