"""A person in two tenants, Acme and Globex. Globex verified its domain and requires SSO, so the
password form sends its members to Globex's identity provider. Signing in through *Acme's*
IdP (the account's primary address is in Acme's verified domain) must not reach around that:
Globex's IdP decides who reaches Globex. A session reaches a tenant that requires SSO of its
user only when it was signed in through that tenant's own IdP; the user's other tenants stay
reachable (SPEC §8: "requires SSO"; SPEC §1: each tenant's policies are its own)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import TenantSSOConfig
from tests.accounts.conftest import acme_idp, globex_idp, verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_sso_oidc import sso_sign_in
from tests.factories import UserFactory, add_member, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "globex_idp"]  # fixtures, for the files that import this one's world


@pytest.fixture
def world(acme_idp: OIDCProvider, globex_idp: OIDCProvider) -> dict[str, Any]:
    return bob_in_two_sso_tenants(acme_idp, globex_idp)


def bob_in_two_sso_tenants(acme_idp: OIDCProvider, globex_idp: OIDCProvider) -> dict[str, Any]:
    """Bob, member of Acme (SSO through ``acme_idp``) and of Globex (SSO required, ``globex_idp``)."""
    acme, acme_owner, (acme_org,) = make_tenant(name="Acme")
    globex, globex_owner, (globex_org,) = make_tenant(name="Globex")
    oidc_sso(acme, acme_owner, acme_idp)
    oidc_sso(globex, globex_owner, globex_idp, require_sso=True)
    verified_domain(acme, "acme.test")
    verified_domain(globex, "globex.test")
    bob = UserFactory(email="bob@acme.test")
    EmailAddress.objects.create(user=bob, email="bob@globex.test", verified=True, primary=False)
    add_member(acme_org, "member", bob)
    add_member(globex_org, "member", bob)
    return {"bob": bob, "acme": acme, "acme_org": acme_org, "globex": globex, "globex_org": globex_org}


def _signed_in(client: Client, idp: OIDCProvider, email: str) -> None:
    done = sso_sign_in(client, idp, email, sub=f"sub-{email}")
    assert done.status_code == 302, done.content[:800]
    assert client.get("/api/v1/me").status_code == 200


def test_acme_sign_in_does_not_reach_globex_over_the_api(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    own = client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=world["acme_org"].public_id)
    assert own.status_code == 200, own.content
    refused = client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=world["globex_org"].public_id)
    assert refused.status_code == 403, refused.content
    body = refused.json()
    assert body["error"] == "WORKSPACE_ACCESS_DENIED"
    assert "Globex" in body["message"] and "single sign-on" in body["message"]
    # The org's own path says the same (the member knows the org: no point in a 404).
    path = client.get(f"/api/v1/organizations/{world['globex_org'].public_id}/")
    assert path.status_code == 403 and "single sign-on" in path.json()["message"]
    listed = client.get("/api/v1/organizations/").json()["organizations"]
    assert [o["id"] for o in listed] == [world["acme_org"].public_id]
    me = client.get("/api/v1/me").json()
    assert [o["id"] for o in me["organizations"]] == [world["acme_org"].public_id]
    # A tenant hint naming Globex is refused the same way.
    tenant_level = client.get("/api/v1/organizations/", {"tenantId": world["globex"].public_id})
    assert tenant_level.status_code == 403 and "single sign-on" in tenant_level.json()["message"]


def test_acme_sign_in_does_not_reach_globex_in_the_ui(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    assert client.get("/keys/", {"organizationId": world["acme_org"].public_id}).status_code == 200
    page = client.get("/keys/", {"organizationId": world["globex_org"].public_id})
    assert page.status_code == 403
    assert "single sign-on" in page.content.decode()
    # The switcher offers Acme's org only; choosing Globex's does not switch to it.
    dashboard = client.get("/").content.decode()
    assert world["globex_org"].public_id not in dashboard
    client.post("/orgs/switch/", {"org": world["globex_org"].public_id})
    assert client.session.get("current_org_id") != world["globex_org"].public_id


def test_globex_sign_in_reaches_both_tenants(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    """Carol's primary address is Globex's (its IdP signs in accounts by their primary address):
    signed in through Globex's IdP she reaches Globex and Acme, which requires nothing."""
    carol = UserFactory(email="carol@globex.test")
    EmailAddress.objects.create(user=carol, email="carol@acme.test", verified=True, primary=False)
    add_member(world["acme_org"], "member", carol)
    add_member(world["globex_org"], "member", carol)
    client = Client()
    _signed_in(client, globex_idp, "carol@globex.test")
    for org in (world["acme_org"], world["globex_org"]):
        answer = client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=org.public_id)
        assert answer.status_code == 200, answer.content
    listed = {o["id"] for o in client.get("/api/v1/organizations/").json()["organizations"]}
    assert listed == {world["acme_org"].public_id, world["globex_org"].public_id}


def test_requirement_switched_on_later_applies_to_acme_sessions(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    """Globex turns "Require SSO" on while Bob is signed in through Acme: on his next request."""
    TenantSSOConfig.objects.filter(tenant=world["globex"]).update(require_sso=False)
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    assert client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=world["globex_org"].public_id).status_code == 200
    TenantSSOConfig.objects.filter(tenant=world["globex"]).update(require_sso=True)
    assert client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=world["globex_org"].public_id).status_code == 403
