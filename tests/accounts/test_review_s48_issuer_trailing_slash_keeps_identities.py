"""docs/accounts.md Tenant SSO (SPEC §8): the IdP in use keeps its identities. Sign-in speaks to the
issuer without its trailing slash (the allauth app's server URL, the discovery document's issuer
compared the same way), so https://idp.acme.example/ and https://idp.acme.example are one IdP,
yet a save compared the issuer as typed: removing (or adding) the trailing slash unlinked every
identity, and everyone had to be matched again on their next sign-in."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from tests.accounts.test_review_s46_saml_sp_addresses import address, shown_addresses
from tests.accounts.test_review_s47_stable_sp_addresses import owner_browser, save
from tests.accounts.test_review_s48_other_protocol_field_keeps_identities import latest_sso_change
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "retyped"),
    [
        ("https://idp.acme.example/", "https://idp.acme.example"),
        ("https://idp.acme.example", "https://idp.acme.example/"),
    ],
)
def test_a_trailing_slash_on_the_issuer_is_the_same_idp(typed: str, retyped: str) -> None:
    tenant, browser, url = owner_browser()
    save(browser, url, protocol="oidc", issuer=typed, client_id="tater")
    provider = address(shown_addresses(browser.get(url).content.decode()), "ACS URL").rstrip("/").split("/")[-2]
    jane = SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="oidc-sub-1")

    save(browser, url, issuer=retyped)

    assert SocialAccount.objects.filter(pk=jane.pk, provider=provider).exists()
    changes = latest_sso_change(tenant)
    assert changes["issuer"] == {"from": typed, "to": retyped}
    assert "identities_unlinked" not in changes


def test_another_path_on_the_issuer_is_another_idp() -> None:
    tenant, browser, url = owner_browser()
    save(browser, url, protocol="oidc", issuer="https://idp.acme.example/tenant-a/", client_id="tater")
    provider = address(shown_addresses(browser.get(url).content.decode()), "ACS URL").rstrip("/").split("/")[-2]
    SocialAccount.objects.create(user=UserFactory(), provider=provider, uid="oidc-sub-1")

    save(browser, url, issuer="https://idp.acme.example/tenant-b/")

    assert not SocialAccount.objects.filter(provider=provider).exists()
    assert latest_sso_change(tenant)["identities_unlinked"] == {"provider": provider, "count": 1}
