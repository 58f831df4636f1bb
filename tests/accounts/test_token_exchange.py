"""Credential exchange (Taffy flow): email + password (+ code) → a new API key, once."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs import services as org_services
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/token"


def exchange(api: APIClient, **body: Any) -> Any:
    return api.post(URL, body, format="json")


def test_owner_gets_a_key_shown_once_that_works(api: APIClient, world: dict[str, Any]) -> None:
    owner = world["owner"]
    response = exchange(
        api, email=owner.email, password=PASSWORD, organizationId=world["org2"].public_id, name="backup script"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["key"].startswith("tater_") and body["headers"] == {"X-API-Key": body["key"]}
    assert body["organization_id"] == world["org2"].public_id and body["name"] == "backup script"
    assert "only time" in body["notice"]
    stored = ApiKey.objects.get(public_id=body["id"])
    assert body["key"] not in (stored.digest, stored.display_prefix)
    assert AuditEvent.objects.filter(
        action="api_key.created", target_id=body["id"], channel="api", actor_user_id=owner.pk
    ).exists()
    assert APIClient().get("/api/v1/auth/validate", HTTP_X_API_KEY=body["key"]).status_code == 200
    # No session is created by an exchange.
    assert "sessionid" not in response.cookies


def test_several_orgs_without_organization_id_is_ambiguous(api: APIClient, world: dict[str, Any]) -> None:
    response = exchange(api, email=world["owner"].email, password=PASSWORD)
    assert response.status_code == 400 and response.json()["error"] == "AMBIGUOUS_ORG"


def test_unreachable_org_is_workspace_access_denied(api: APIClient, world: dict[str, Any]) -> None:
    response = exchange(api, email=world["owner"].email, password=PASSWORD, organizationId=world["other_org"].public_id)
    assert response.status_code == 403 and response.json()["error"] == "WORKSPACE_ACCESS_DENIED"


def test_single_org_user_needs_no_organization_id(api: APIClient) -> None:
    tenant, owner, (org,) = make_tenant()
    response = exchange(api, email=owner.email, password=PASSWORD)
    assert response.status_code == 201 and response.json()["organization_id"] == org.public_id


def test_non_owner_refused_by_default_policy(api: APIClient, world: dict[str, Any]) -> None:
    response = exchange(api, email=world["admin"].email, password=PASSWORD)
    assert response.status_code == 403 and response.json()["error"] == "PERMISSION_DENIED"
    assert not ApiKey.objects.filter(owner=world["admin"]).exists()


def test_policy_members_lets_a_member_exchange_within_their_role(api: APIClient, world: dict[str, Any]) -> None:
    org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], token_exchange_policy="members")
    member = world["member"]
    ok = exchange(api, email=member.email, password=PASSWORD)
    assert ok.status_code == 201, ok.json()
    assert "members:write" not in ok.json()["scopes"]
    # Scopes beyond the member's role are refused by the service.
    too_much = exchange(api, email=member.email, password=PASSWORD, scopes=["members:write"])
    assert too_much.status_code == 403 and too_much.json()["error"] == "PERMISSION_DENIED"
    viewer = exchange(api, email=world["viewer"].email, password=PASSWORD)
    assert viewer.status_code == 403


def test_wrong_password_is_invalid_credentials(api: APIClient, world: dict[str, Any]) -> None:
    response = exchange(api, email=world["owner"].email, password="nope-nope-nope")
    assert response.status_code == 401 and response.json()["error"] == "INVALID_CREDENTIALS"
    assert AuditEvent.objects.filter(action="user.login_failed").exists()


def test_2fa_user_needs_a_valid_code(api: APIClient, clock: Any) -> None:
    tenant, owner, (org,) = make_tenant()
    device, codes = enrol(owner, clock.now)
    missing = exchange(api, email=owner.email, password=PASSWORD)
    assert missing.status_code == 401 and missing.json()["error"] == "INVALID_OTP"
    clock.advance(30)
    wrong = exchange(api, email=owner.email, password=PASSWORD, code="000000")
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_OTP"
    assert not ApiKey.objects.exists()
    clock.advance(30)
    code = totp_code(device, clock.now)
    ok = exchange(api, email=owner.email, password=PASSWORD, code=code)
    assert ok.status_code == 201
    replay = exchange(api, email=owner.email, password=PASSWORD, code=code)
    assert replay.status_code == 401 and replay.json()["error"] == "INVALID_OTP"


def test_tenant_requiring_2fa_refuses_unenrolled_exchange(api: APIClient) -> None:
    tenant, owner, _ = make_tenant()
    org_services.tenant_update(tenant=tenant, actor=owner, require_2fa=True)
    response = exchange(api, email=owner.email, password=PASSWORD)
    assert response.status_code == 403 and response.json()["error"] == "MFA_REQUIRED"


def test_bad_body(api: APIClient) -> None:
    response = exchange(api, email="owner@example.com", password=PASSWORD, scopes=["nonsense"])
    assert response.status_code == 400 and response.json()["error"] == "VALIDATION_ERROR"
    assert "scopes" in response.json()["details"]["fields"]


def test_a_tenant_capping_key_lifetimes_gets_keys_that_expire_within_it(api: APIClient, world: dict[str, Any]) -> None:
    """A tenant with a maximum key lifetime: an exchange without ``expires_at`` gets a key
    expiring at the longest the tenant allows (Taffy's clients have no field for it), one
    with a later expiry a 400 naming the field, one within it that expiry."""
    from datetime import timedelta

    from django.utils import timezone

    from orgs.models import Tenant

    Tenant.objects.filter(pk=world["tenant"].pk).update(max_key_lifetime_days=30)
    owner, org = world["owner"], world["org1"].public_id
    r = exchange(api, email=owner.email, password=PASSWORD, organizationId=org)
    assert r.status_code == 201, r.json()
    expires = ApiKey.objects.get(public_id=r.json()["id"]).expires_at
    assert timezone.now() + timedelta(days=29) < expires <= timezone.now() + timedelta(days=30)
    later = (timezone.now() + timedelta(days=60)).isoformat()
    r = exchange(api, email=owner.email, password=PASSWORD, organizationId=org, expires_at=later)
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.json()
    assert "expires_at" in r.json()["details"]["fields"]
    soon = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    r = exchange(api, email=owner.email, password=PASSWORD, organizationId=org, expires_at=soon.isoformat())
    assert r.status_code == 201 and ApiKey.objects.get(public_id=r.json()["id"]).expires_at == soon
