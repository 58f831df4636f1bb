"""The "Connected identity providers" page (/accounts/3rdparty/, allauth's connections page).

SPEC §1: nothing of one tenant is ever visible to a user of another. A tenant's SSO identity
provider is its own: the page may offer to link only the global providers an operator set up
(Google, Microsoft) and the IdP of the tenant that verified the user's own email domain (the
one Account security's "Link single sign-on" offers), never the list of every tenant's IdP.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def tenant_idp(name: str, domain: str) -> Any:
    """A tenant with an OpenID Connect IdP for its verified ``domain`` (as its owner saves it)."""
    from accounts import sso
    from accounts.models import TenantDomain

    tenant, owner, _ = make_tenant(name=name)
    TenantDomain.objects.create(tenant=tenant, domain=domain, verified_at=timezone.now())
    values = {"protocol": "oidc", "issuer": f"https://idp.{domain}", "client_id": "tater", "client_secret": "s"}
    return sso.sso_config_save(tenant=tenant, actor=owner, values=values)


def test_another_tenants_identity_provider_is_not_listed() -> None:
    tenant_idp("Initech Secret Project", "initech.example")
    _, outsider, _ = make_tenant(name="Outsider")
    page = signed_in(outsider).get("/accounts/3rdparty/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Initech" not in text
    assert "openid_connect" not in text


def test_the_global_providers_and_the_users_own_tenant_idp_are_offered() -> None:
    SocialApp.objects.create(provider="google", name="Google", client_id="g", secret="s")
    config = tenant_idp("Umbrella", "umbrella.example")
    tenant_idp("Initech", "initech.example")
    employee = UserFactory(email="ada@umbrella.example")
    text = signed_in(employee).get("/accounts/3rdparty/").content.decode()
    assert "Google" in text
    assert "Link Umbrella single sign-on" in text and config.provider_id in text
    assert "Initech" not in text


def test_with_nothing_to_link_the_page_says_so_instead_of_an_empty_heading() -> None:
    _, user, _ = make_tenant(name="Plain")
    text = signed_in(user).get("/accounts/3rdparty/").content.decode()
    assert "Add a Third-Party Account" not in text
    assert "No identity provider can be linked to this account" in text


def test_a_linked_identity_is_listed_with_a_remove_button() -> None:
    from allauth.socialaccount.models import SocialAccount

    SocialApp.objects.create(provider="google", name="Google", client_id="g", secret="s")
    _, user, _ = make_tenant(name="Linked")
    link = SocialAccount.objects.create(user=user, provider="google", uid="g-1")
    text = signed_in(user).get("/accounts/3rdparty/").content.decode()
    assert f'name="account" value="{link.pk}"' in text
    assert '<button type="submit" class="danger">Remove</button>' in text
