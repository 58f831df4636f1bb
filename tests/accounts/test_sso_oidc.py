"""Tenant SSO over OpenID Connect against a real provider on loopback (tests/accounts/
oidc_provider.py): email-first routing, JIT provisioning with the default role, identity by
issuer + subject, no takeover by an unverified email claim, and "SSO required". The tenant
verified its domain through the real DNS flow (tests/accounts/dns_server.py) first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from rest_framework.test import APIClient

from accounts import sso
from accounts.models import TenantSSOConfig
from audit.models import AuditEvent
from orgs.models import OrgMembership, TenantMembership
from tests.accounts.conftest import enrol, verify_domain_via_dns
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import PASSWORD, UserFactory, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def tenant_sso(idp: OIDCProvider, dns: LoopbackDNS) -> dict[str, Any]:
    tenant, owner, (org1, org2) = make_tenant(name="Acme", orgs=2)
    config = oidc_sso(tenant, owner, idp, default_organization=org2, default_role="viewer")
    verify_domain_via_dns(dns, tenant, owner, "acme.test")
    return {"tenant": tenant, "owner": owner, "org": org2, "config": config}


def sso_sign_in(client: Client, idp: OIDCProvider, email: str, **claims: Any) -> Any:
    """Email-first: the login page routes the domain to the IdP, the browser goes there
    and back; returns Django's answer to the callback."""
    idp.claims = {"sub": claims.pop("sub", f"sub-{email}"), "email": email, "email_verified": True, **claims}
    routed = client.post("/accounts/login/", {"login": email, "password": "", "sso": "1"})
    assert routed.status_code == 302, routed.content[:500]
    start = client.post(routed["Location"])  # allauth's "continue to your IdP" step
    assert start.status_code == 302 and start["Location"].startswith(idp.issuer), start
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_first_sso_sign_in_provisions_user_with_default_role(idp: OIDCProvider, tenant_sso: dict[str, Any]) -> None:
    client = Client()
    done = sso_sign_in(client, idp, "jane@acme.test", sub="00u-jane")
    assert done.status_code == 302, done.content[:1000]
    membership = OrgMembership.objects.get(user__email="jane@acme.test")
    assert membership.organization == tenant_sso["org"] and membership.role == "viewer"
    # No self-service tenant for SSO-provisioned users.
    assert not TenantMembership.objects.filter(user__email="jane@acme.test").exists()
    account = SocialAccount.objects.get(user__email="jane@acme.test")
    assert (account.provider, account.uid) == (tenant_sso["config"].provider_id, "00u-jane")
    assert AuditEvent.objects.filter(action="user.sso_linked", tenant=tenant_sso["tenant"]).exists()
    assert AuditEvent.objects.filter(action="user.login", actor_user_id=membership.user_id).exists()
    me = client.get("/api/v1/me").json()
    assert me["organizations"] == [
        {
            "id": tenant_sso["org"].public_id,
            "name": tenant_sso["org"].name,
            "tenant_id": tenant_sso["tenant"].public_id,
            "role": "viewer",
            "tenant_role": None,
        }
    ]


def test_identity_is_issuer_and_subject_not_email(idp: OIDCProvider, tenant_sso: dict[str, Any]) -> None:
    sso_sign_in(Client(), idp, "jane@acme.test", sub="00u-jane")
    user_id = SocialAccount.objects.get(uid="00u-jane").user.public_id
    # The IdP renames her: same subject, same Tater user.
    client = Client()
    assert sso_sign_in(client, idp, "jane.doe@acme.test", sub="00u-jane").status_code == 302
    assert client.get("/api/v1/me").json()["user"]["id"] == user_id


def test_unverified_email_claim_never_takes_over_an_existing_account(
    idp: OIDCProvider, tenant_sso: dict[str, Any]
) -> None:
    victim = UserFactory(email="boss@acme.test")
    OrgMembership.objects.create(organization=tenant_sso["org"], user=victim, role="member")  # one of Acme's
    client = Client()
    refused = sso_sign_in(client, idp, "boss@acme.test", sub="attacker", email_verified=False)
    assert refused.status_code == 403
    assert not SocialAccount.objects.filter(user=victim).exists()
    assert client.get("/api/v1/me").status_code == 401
    # A verified claim in the tenant's own (verified) domain links the tenant's existing account.
    linked = Client()
    assert sso_sign_in(linked, idp, "boss@acme.test", sub="00u-boss").status_code == 302
    assert SocialAccount.objects.get(user=victim).uid == "00u-boss"


def test_email_outside_the_verified_domain_is_refused(idp: OIDCProvider, tenant_sso: dict[str, Any]) -> None:
    idp.claims = {"sub": "x", "email": "someone@elsewhere.test", "email_verified": True}
    client = Client()
    start = client.post(sso.login_url(tenant_sso["config"]))
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 403
    assert not SocialAccount.objects.exists()


def test_sso_required_refuses_password_sign_in(idp: OIDCProvider, tenant_sso: dict[str, Any]) -> None:
    sso.sso_config_save(tenant=tenant_sso["tenant"], actor=tenant_sso["owner"], values={"require_sso": True})
    member = UserFactory(email="bob@acme.test")
    OrgMembership.objects.create(organization=tenant_sso["org"], user=member, role="member")
    # UI: the password form sends the domain to the IdP instead.
    routed = Client().post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    assert routed.status_code == 302 and "/accounts/oidc/" in routed["Location"]
    # API: refused even with the right password.
    api = APIClient().post("/api/v1/auth/login", {"email": member.email, "password": PASSWORD}, format="json")
    assert api.status_code == 403 and api.json()["error"] == "SSO_REQUIRED"
    token = APIClient().post("/api/v1/auth/token", {"email": member.email, "password": PASSWORD}, format="json")
    assert token.status_code == 403
    # Sign-up with the domain is refused too.
    signup = Client().post(
        "/accounts/signup/",
        {"email": "new@acme.test", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert signup.status_code == 200 and "single sign-on" in signup.content.decode()
    # SSO itself works.
    client = Client()
    r = sso_sign_in(client, idp, "bob@acme.test", sub="00u-bob")
    assert r.status_code == 302, r.content.decode()[-1500:]
    assert client.get("/api/v1/me").status_code == 200


def test_sso_sign_in_asks_enrolled_users_for_their_second_factor(
    idp: OIDCProvider, tenant_sso: dict[str, Any], clock: Any
) -> None:
    client = Client()
    sso_sign_in(client, idp, "jane@acme.test", sub="00u-jane")
    user = SocialAccount.objects.get(uid="00u-jane").user
    enrol(user, clock.now)
    client.post("/accounts/logout/")
    second = Client()
    response = sso_sign_in(second, idp, "jane@acme.test", sub="00u-jane")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/challenge/"
    assert second.get("/api/v1/me").status_code == 401


def test_sso_settings_page_is_for_tenant_owners(tenant_sso: dict[str, Any]) -> None:
    owner = Client()
    owner.force_login(tenant_sso["owner"])
    page = owner.get("/accounts/sso/")
    assert page.status_code == 200 and "acme.test" in page.content.decode()
    assert "tater-secret" not in page.content.decode()
    response = owner.post(
        "/accounts/sso/",
        {
            "tenant": tenant_sso["tenant"].public_id,
            "protocol": "oidc",
            "issuer": tenant_sso["config"].issuer,
            "client_id": "tater-client",
            "client_secret": "",
            "default_role": "member",
            "require_sso": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    config = TenantSSOConfig.objects.get()
    assert config.require_sso and config.default_role == "member" and config.client_secret == "tater-secret"
    viewer = UserFactory()
    OrgMembership.objects.create(organization=tenant_sso["org"], user=viewer, role="admin")
    other = Client()
    other.force_login(viewer)
    assert other.get("/accounts/sso/").status_code == 403


def test_a_refused_sso_form_lists_every_problem_at_the_top_and_keeps_the_input(tenant_sso: dict[str, Any]) -> None:
    # SPEC §9: a long form refused for several fields says so where the eye lands, each
    # problem linking to its field, and loses nothing typed.
    owner = Client()
    owner.force_login(tenant_sso["owner"])
    response = owner.post(
        "/accounts/sso/",
        {"tenant": tenant_sso["tenant"].public_id, "protocol": "oidc", "issuer": "not a url", "client_id": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    summary = body[body.index('id="form-errors"') :]
    assert 'href="#id_issuer"' in summary and 'href="#id_default_role"' in summary
    assert 'value="not a url"' in body
