"""The admin side of accounts: SSO configuration, verified domains and deactivation, behind a
verified 2FA."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client

from accounts.models import TenantDomain, TenantSSOConfig
from audit.models import AuditEvent
from tests.accounts.conftest import enrol, verified_domain
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(clock: Any) -> Client:
    staff = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(staff, clock.now)
    client = Client()
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200
    return client


def test_admin_creates_tenant_sso_config_and_its_provider(admin_client: Client) -> None:
    tenant, owner, (org,) = make_tenant()
    response = admin_client.post(
        "/admin/accounts/tenantssoconfig/add/",
        {
            "tenant": tenant.pk,
            "protocol": "oidc",
            "issuer": "https://idp.example.com",
            "client_id": "abc",
            "client_secret": "shh-secret",
            "default_role": "member",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    config = TenantSSOConfig.objects.get(tenant=tenant)
    app = SocialApp.objects.get(provider_id=config.provider_id)
    assert (app.provider, app.client_id, app.settings["server_url"]) == (
        "openid_connect",
        "abc",
        "https://idp.example.com",
    )
    page = admin_client.get(f"/admin/accounts/tenantssoconfig/{config.pk}/change/").content.decode()
    assert "shh-secret" not in page


def test_admin_deactivation_signs_the_user_out(admin_client: Client) -> None:
    user = UserFactory()
    victim = Client()
    victim.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert victim.get("/api/v1/me").status_code == 200
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "first_name": "",
            "last_name": "",
            "is_active": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "last_login_0": "",
            "last_login_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert victim.get("/api/v1/me").status_code == 401


def test_admin_sees_domain_claims_read_only_and_removes_them_audited(admin_client: Client) -> None:
    tenant, owner, _ = make_tenant()
    claim = verified_domain(tenant, "example.com")
    listing = admin_client.get("/admin/accounts/tenantdomain/").content.decode()
    assert "example.com" in listing and claim.token not in listing
    assert admin_client.get("/admin/accounts/tenantdomain/add/").status_code == 403
    # Nothing can be marked verified from the admin: only the DNS proof does that.
    pending = TenantDomain.objects.create(tenant=tenant, domain="example.org")
    admin_client.post(
        f"/admin/accounts/tenantdomain/{pending.pk}/change/", {"verified_at_0": "2026-01-01", "verified_at_1": "00:00"}
    )
    pending.refresh_from_db()
    assert pending.verified_at is None
    response = admin_client.post(f"/admin/accounts/tenantdomain/{claim.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TenantDomain.objects.filter(pk=claim.pk).exists()
    removed = AuditEvent.objects.get(action="sso.domain_removed")
    assert removed.channel == "admin" and removed.changes == {"domain": "example.com", "was_verified": True}


def test_an_sso_config_stays_its_tenants_when_edited_in_the_admin(admin_client: Client) -> None:
    """Another tenant named in the change form overwrote that tenant's configuration with
    this one's values and left this one as it was: a configuration belongs to its tenant."""
    form = {"protocol": "oidc", "client_id": "abc", "client_secret": "", "default_role": "member", "is_active": "on"}
    mine, _, _ = make_tenant(name="Mine")
    theirs, _, _ = make_tenant(name="Theirs")
    for tenant, issuer in ((mine, "https://idp.mine.example"), (theirs, "https://idp.theirs.example")):
        r = admin_client.post(
            "/admin/accounts/tenantssoconfig/add/",
            {**form, "tenant": tenant.pk, "issuer": issuer, "client_secret": "s"},
        )
        assert r.status_code == 302, r.content.decode()[-2000:]
    config = TenantSSOConfig.objects.get(tenant=mine)

    r = admin_client.post(
        f"/admin/accounts/tenantssoconfig/{config.pk}/change/",
        {**form, "tenant": theirs.pk, "issuer": "https://idp.changed.example"},
    )

    assert r.status_code == 302, r.content.decode()[-2000:]
    assert TenantSSOConfig.objects.get(tenant=theirs).issuer == "https://idp.theirs.example"
    assert TenantSSOConfig.objects.get(tenant=mine).issuer == "https://idp.changed.example"
