"""Mass assignment (OWASP API3:2023, broken object property level authorization): fields
the server decides (tenant, organization, owner, creator, digest, prefix, public id,
status, staff flags, roles and scopes above the caller's) cannot be set through any
create/update endpoint. Each request sends them; the stored row shows server values."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from orgs.models import Organization, OrgMembership, TenantMembership
from scans.models import Scan
from tests.hardening.world import World, build_world

FORGED = "0" * 64


@pytest.fixture
def w(db: Any) -> World:
    return build_world()


def key_client(w: World, name: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=w.raw[name])
    return client


def session_client(user: Any, org: Organization | None = None) -> APIClient:
    client = APIClient()
    client.force_login(user)
    if org is not None:
        session = client.session
        session["current_org_id"] = org.public_id
        session.save()
    return client


def forged_key_fields(w: World) -> dict[str, Any]:
    return {
        "tenant": w.other_tenant.public_id,
        "tenant_id": w.other_tenant.public_id,
        "organization": w.other_org.public_id,
        "organization_id": w.other_org.public_id,
        "owner": w.users["other_owner"].email,
        "owner_id": w.users["other_owner"].pk,
        "creator": w.users["other_owner"].pk,
        "digest": FORGED,
        "previous_digest": FORGED,
        "display_prefix": "tater_dead",
        "prefix": "tater_dead",
        "public_id": "key-forged",
        "id": "key-forged",
        "key": "tater_" + "a" * 32,
        "is_active": False,
        "revoked_at": "2020-01-01T00:00:00Z",
        "last_used_at": "2020-01-01T00:00:00Z",
        "last_used_ip": "203.0.113.9",
        "binding": "unbound",
        "is_staff": True,
        "is_superuser": True,
    }


def assert_key_is_server_decided(row: ApiKey, w: World, owner: Any, org: Organization) -> None:
    assert row.tenant_id == w.tenant.pk and row.organization_id == org.pk
    assert row.owner_id == owner.pk and row.creator_id == owner.pk
    assert row.digest != FORGED and row.previous_digest in (None, "") and row.display_prefix != "tater_dead"
    assert row.public_id != "key-forged" and row.is_active and row.revoked_at is None and row.last_used_at is None


def test_key_create_ignores_server_fields(w: World) -> None:
    body = {"name": "forged", "scopes": ["scans:read"], **forged_key_fields(w)}
    response = key_client(w, "full").post("/api/v1/keys/", body, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        return  # refused outright: nothing stored
    row = ApiKey.objects.get(public_id=response.json()["id"])
    assert_key_is_server_decided(row, w, w.users["owner"], w.org1)
    assert response.json()["key"] != body["key"]
    assert not get_user_model().objects.filter(is_staff=True).exists()


@pytest.mark.parametrize(
    ("caller", "scopes"),
    [
        ("session:member", ["*"]),
        ("session:member", ["members:write"]),
        ("key:limited", ["scans:write"]),
        ("key:read", ["keys:write"]),
        ("key:member", ["audit:write"]),
    ],
)
def test_key_create_cannot_exceed_the_callers_scopes(w: World, caller: str, scopes: list[str]) -> None:
    kind, name = caller.split(":")
    client = session_client(w.users[name], w.org1) if kind == "session" else key_client(w, name)
    before = ApiKey.objects.count()
    response = client.post("/api/v1/keys/", {"name": "escalate", "scopes": scopes}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error"] == "PERMISSION_DENIED"
    assert ApiKey.objects.count() == before


def test_unbound_key_creation_is_owner_only(w: World) -> None:
    for name in ("tenant_admin", "org_admin", "member"):
        response = session_client(w.users[name], w.org1).post(
            "/api/v1/keys/", {"name": "x", "scopes": ["scans:read"], "unbound": True}, format="json"
        )
        assert response.status_code == 403, (name, response.content)
    assert not ApiKey.objects.filter(organization__isnull=True, name="x").exists()


def test_key_update_ignores_server_fields_and_cannot_widen(w: World) -> None:
    target = w.keys["limited"]
    client = key_client(w, "full")
    response = client.patch(
        f"/api/v1/keys/{target.public_id}/", {"name": "renamed", **forged_key_fields(w), "type": "agent"}, format="json"
    )
    assert response.status_code in (200, 400), response.content
    row = ApiKey.objects.get(pk=target.pk)
    assert_key_is_server_decided(row, w, w.users["owner"], w.org1)
    assert row.type == "standard" and row.digest == target.digest
    widened = client.patch(f"/api/v1/keys/{target.public_id}/", {"scopes": ["*"]}, format="json")
    assert widened.status_code == 403
    assert ApiKey.objects.get(pk=target.pk).scopes == ["scans:read"]


def test_organization_create_lands_in_the_callers_tenant(w: World) -> None:
    client = session_client(w.users["owner"], w.org1)
    body = {
        "name": "Forged Org",
        "tenant": w.other_tenant.public_id,
        "tenant_id": w.other_tenant.public_id,
        "id": "org-forged",
        "public_id": "org-forged",
        "slug": "forged",
    }
    response = client.post("/api/v1/organizations/", body, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        org = Organization.objects.get(public_id=response.json()["id"])
        assert org.tenant_id == w.tenant.pk and org.public_id != "org-forged"


def test_member_roles_never_above_the_granter(w: World) -> None:
    org_admin = session_client(w.users["org_admin"], w.org1)
    viewer = w.users["viewer"]
    url = f"/api/v1/organizations/{w.org1.public_id}/members/{viewer.public_id}/"
    for body in ({"tenant_role": "owner"}, {"tenant_role": "admin"}):
        response = org_admin.patch(url, body, format="json")
        assert response.status_code in (400, 403), (body, response.content)
    assert not TenantMembership.objects.filter(user=viewer).exists()
    # Fields the endpoint does not take are refused, not ignored (SPEC §2a), and change nothing.
    response = org_admin.patch(
        url,
        {"role": "member", "is_staff": True, "is_superuser": True, "organization": w.other_org.public_id},
        format="json",
    )
    assert response.status_code == 400 and set(response.json()["details"]["fields"]) == {
        "is_staff",
        "is_superuser",
        "organization",
    }
    assert OrgMembership.objects.get(user=viewer, organization=w.org1).role == "viewer"
    response = org_admin.patch(url, {"role": "member"}, format="json")
    assert response.status_code == 200, response.content
    viewer.refresh_from_db()
    assert not viewer.is_staff and not viewer.is_superuser
    assert OrgMembership.objects.get(user=viewer, organization=w.org1).role == "member"
    assert not OrgMembership.objects.filter(user=viewer, organization=w.other_org).exists()
    # A member cannot promote anyone (no members:write), themselves included.
    member = w.users["member"]
    response = session_client(member, w.org1).patch(
        f"/api/v1/organizations/{w.org1.public_id}/members/{member.public_id}/", {"role": "admin"}, format="json"
    )
    assert response.status_code == 403
    assert OrgMembership.objects.get(user=member, organization=w.org1).role == "member"


def test_member_add_ignores_server_fields(w: World) -> None:
    outsider = get_user_model().objects.create_user(email="outsider@example.com", password="x-Very-long-pass-123")
    client = session_client(w.users["org_admin"], w.org1)
    body = {
        "email": outsider.email,
        "role": "viewer",
        "is_staff": True,
        "is_superuser": True,
        "tenant_role": "owner",
        "organization": w.other_org.public_id,
    }
    response = client.post(f"/api/v1/organizations/{w.org1.public_id}/members/", body, format="json")
    assert response.status_code in (201, 400), response.content
    outsider.refresh_from_db()
    assert not outsider.is_staff and not outsider.is_superuser
    assert not TenantMembership.objects.filter(user=outsider).exists()
    assert not OrgMembership.objects.filter(user=outsider, organization=w.other_org).exists()


def test_scan_upload_lands_in_the_callers_org(w: World) -> None:
    body = {
        "scanner": "nmap",
        "target": "10.0.0.1",
        "started_at": "2026-01-01T00:00:00Z",
        "findings": [],
        "tenant": w.other_tenant.public_id,
        "tenant_id": w.other_tenant.public_id,
        "organization": w.other_org.public_id,
        "organization_id": w.other_org.public_id,
        "uploaded_by_user": w.users["other_owner"].pk,
        "uploaded_by_key_id": "key-forged",
        "id": "scan-forged",
    }
    response = key_client(w, "agent").post("/api/v1/scans/upload", body, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        scan = Scan.objects.get(public_id=response.json()["id"])
        assert scan.organization_id == w.org1.pk and scan.tenant_id == w.tenant.pk
        assert scan.public_id != "scan-forged"
        assert scan.uploaded_by_key_id == w.keys["agent"].public_id
    assert not Scan.objects.filter(organization=w.other_org).exists()
