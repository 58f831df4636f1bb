"""An identity-provider token speaks for its IdP's tenant only (SPEC §1, §3, §4).

A Bearer JWT from tenant A's OpenID Connect provider authenticates its linked user "like a
session", with "the tenant's" 2FA and SSO policies: the tenant whose provider issued it. The
provider is tenant A's to run (its administrators can sign any of its subjects in), so the
token must not open what the same person holds in another tenant B, which never chose to trust
A's provider: B's orgs are out of its reach (403 WORKSPACE_ACCESS_DENIED on a hint, 404 on a
path), and nothing of B is listed to it."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount

from scans import services as scan_services
from tests.accounts.conftest import verified_domain
from tests.factories import UserFactory, add_member, make_tenant, oidc_sso
from tests.surfaces.conftest import json_of
from tests.surfaces.test_idp_tokens import call, idp  # noqa: F401  (the provider fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_tenants(idp: Any, settings: Any) -> dict[str, Any]:  # noqa: F811
    settings.TATER_IDP_JWKS_REFRESH_COOLDOWN = 30
    acme, acme_owner, (acme_org,) = make_tenant(name="Acme")
    config = oidc_sso(acme, acme_owner, idp)
    verified_domain(acme, "acme.test")
    jane = add_member(acme_org, "member", UserFactory(email="jane@acme.test"))
    SocialAccount.objects.create(user=jane, provider=config.provider_id, uid="00u-jane")
    # Jane also works for Globex (an admin of its org), which has no part in Acme's provider.
    globex, globex_owner, (globex_org,) = make_tenant(name="Globex")
    add_member(globex_org, "admin", jane)
    scan = scan_services.scan_upload(
        organization=globex_org,
        scanner="nmap",
        target="10.9.0.0/24",
        started_at="2026-01-15T09:30:00Z",
        finished_at=None,
        findings=[],
        metadata=None,
        uploaded_by_user=globex_owner,
        uploaded_by_key_id="",
        key_prefix="",
    )
    token = idp.sign(idp.claims_for("00u-jane"))
    return {
        "acme": acme,
        "acme_org": acme_org,
        "globex": globex,
        "globex_org": globex_org,
        "scan": scan,
        "token": token,
    }


def test_the_token_reads_its_own_tenant(two_tenants: dict[str, Any]) -> None:
    w = two_tenants
    body = json_of(call(w["token"], f"/api/v1/scans/?organizationId={w['acme_org'].public_id}"), 200)
    assert body["total"] == 0


def test_another_tenants_org_is_out_of_the_tokens_reach(two_tenants: dict[str, Any]) -> None:
    w = two_tenants
    globex_org = w["globex_org"].public_id
    body = json_of(call(w["token"], f"/api/v1/scans/?organizationId={globex_org}"), 403)
    assert body["error"] == "WORKSPACE_ACCESS_DENIED"
    body = json_of(call(w["token"], "/api/v1/scans/", HTTP_X_WORKSPACE_ID=globex_org), 403)
    assert body["error"] == "WORKSPACE_ACCESS_DENIED"
    body = json_of(call(w["token"], f"/api/v1/scans/{w['scan'].public_id}/?organizationId={globex_org}"), 403)
    assert body["error"] == "WORKSPACE_ACCESS_DENIED"
    json_of(call(w["token"], f"/api/v1/organizations/{globex_org}/members/"), 404)
    body = json_of(call(w["token"], f"/api/v1/keys/?tenantId={w['globex'].public_id}"), 403)
    assert body["error"] == "WORKSPACE_ACCESS_DENIED"


def test_nothing_of_another_tenant_is_listed_to_the_token(two_tenants: dict[str, Any]) -> None:
    w = two_tenants
    me = json_of(call(w["token"], "/api/v1/me/"), 200)
    assert [t["id"] for t in me["tenants"]] == [w["acme"].public_id]
    assert [o["id"] for o in me["organizations"]] == [w["acme_org"].public_id]
    orgs = json_of(call(w["token"], "/api/v1/organizations/"), 200)
    assert [o["id"] for o in orgs["organizations"]] == [w["acme_org"].public_id]
    assert orgs["total"] == 1


def test_the_token_writes_nothing_in_another_tenant(two_tenants: dict[str, Any]) -> None:
    from django.test import Client

    from apikeys.models import ApiKey

    w = two_tenants
    r = Client().post(
        f"/api/v1/keys/?organizationId={w['globex_org'].public_id}",
        {"name": "made with Acme's provider"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {w['token']}",
    )
    assert json_of(r, 403)["error"] == "WORKSPACE_ACCESS_DENIED"
    assert not ApiKey.objects.filter(tenant=w["globex"]).exclude(name="test key").exists()
