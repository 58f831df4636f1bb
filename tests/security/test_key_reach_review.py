"""Found by an attacker review (2026-12-04), expectations from SPEC §2 and §2a:

- an unbound key holding only ``keys:write`` rotated its owner's ``*`` key and received a
  full-access secret (its reach now stops at keys whose scopes lie within its own);
- an org-bound key "removed a member" who held a tenant role, which dropped the tenant
  role: a tenant-wide change through a key confined to one org;
- an org admin renamed another person's key and rewrote its metadata (returned by
  validate to the key's integration), and reactivated a key its owner had deactivated:
  admins may deactivate, revoke and narrow another person's key, never widen or relabel it;
- pending invitations (addresses, roles) were listed to every ``members:read`` caller of
  the API, where the members page shows them only to ``members:write``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from apikeys.models import ApiKey
from orgs import services as org_services
from orgs.models import TenantMembership
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
SECRET = re.compile(r"\b(?:tater_|ak_|ck_)[0-9a-f]{32}\b")


def members_url(org: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


# --- SPEC §2a "A key's reach": "... and whose scopes lie within its own effective permissions"
# and §2 "A key can never be created ... with more than its creator has".


def test_unbound_narrow_key_cannot_rotate_a_full_access_key_and_get_its_secret(api: Any, world: dict[str, Any]) -> None:
    """An unbound key holding only keys:write rotates its owner's '*' key and receives a
    full-access secret: a keys:write credential becomes a '*' credential."""
    narrow, narrow_raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, scopes=["keys:write"])
    full = world["owner_key"]
    assert full.scopes == ["*"]
    digest = ApiKey.objects.get(pk=full.pk).digest
    r = api.post(f"{KEYS}{full.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=narrow_raw)
    assert r.status_code in (403, 404), r.content
    assert not SECRET.search(r.content.decode())
    assert ApiKey.objects.get(pk=full.pk).digest == digest


def test_unbound_narrow_key_does_not_see_wider_keys(api: Any, world: dict[str, Any]) -> None:
    narrow, narrow_raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, scopes=["keys:read"])
    r = api.get(KEYS, HTTP_X_API_KEY=narrow_raw, HTTP_X_WORKSPACE_ID=world["org1"].public_id)
    assert r.status_code == 200, r.content
    ids = {k["id"] for k in r.json()["keys"]}
    assert world["owner_key"].public_id not in ids


# --- SPEC §2 "Binding: org-scoped (...; every call is confined to that org)"


def test_org_bound_key_cannot_strip_a_tenant_admins_tenant_role(api: Any, world: dict[str, Any]) -> None:
    """An org1-bound key of the tenant owner removes a tenant admin 'from org1': the service
    also drops the tenant role, a tenant-wide change (all orgs) made through an org-bound key."""
    tadmin = UserFactory()
    org_services.tenant_member_set(tenant=world["tenant"], user=tadmin, role="admin")
    r = api.delete(f"{members_url(world['org1'])}{tadmin.public_id}/", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code in (403, 404, 409), r.status_code
    assert TenantMembership.objects.filter(tenant=world["tenant"], user=tadmin, role="admin").exists()


def test_org_bound_key_cannot_remove_another_tenant_owner(api: Any, world: dict[str, Any]) -> None:
    second_owner = UserFactory()
    org_services.tenant_member_set(tenant=world["tenant"], user=second_owner, role="owner")
    r = api.delete(f"{members_url(world['org1'])}{second_owner.public_id}/", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code in (403, 404, 409), r.status_code
    assert TenantMembership.objects.filter(tenant=world["tenant"], user=second_owner, role="owner").exists()


def test_org_bound_key_cannot_patch_tenant_role(api: Any, world: dict[str, Any]) -> None:
    """Contrast (passes): PATCH tenant_role=null is refused to an org-bound key; DELETE is not."""
    tadmin = UserFactory()
    org_services.tenant_member_set(tenant=world["tenant"], user=tadmin, role="admin")
    r = api.patch(
        f"{members_url(world['org1'])}{tadmin.public_id}/",
        {"tenant_role": None},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 403, r.content
    assert TenantMembership.objects.filter(tenant=world["tenant"], user=tadmin).exists()


# --- SPEC §2a "Admins ... may list, view (never the secret), deactivate, revoke and narrow the
# keys of orgs they administer; never rotate or widen another person's key."


def test_org_admin_cannot_rewrite_metadata_of_another_persons_key(api: Any, world: dict[str, Any]) -> None:
    api.force_authenticate(world["admin"])
    key = world["member_key"]
    r = api.patch(
        f"{KEYS}{key.public_id}/",
        {"metadata": {"tenant": "evil"}},
        format="json",
        HTTP_X_WORKSPACE_ID=world["org1"].public_id,
    )
    assert r.status_code == 403, r.content
    key.refresh_from_db()
    assert key.metadata == {}


def test_org_admin_cannot_reactivate_a_key_its_owner_deactivated(api: Any, world: dict[str, Any]) -> None:
    key = world["member_key"]
    api.force_authenticate(world["member"])
    hints = {"HTTP_X_WORKSPACE_ID": world["org1"].public_id}
    assert api.post(f"{KEYS}{key.public_id}/deactivate/", **hints).status_code == 200
    api.force_authenticate(world["admin"])
    r = api.post(f"{KEYS}{key.public_id}/activate/", **hints)
    assert r.status_code == 403, r.content
    key.refresh_from_db()
    assert key.is_active is False


def test_tenant_admins_org_bound_key_cannot_strip_another_tenant_admin(api: Any, world: dict[str, Any]) -> None:
    """Same escape through a tenant admin's org-bound key (no owner involved)."""
    tadmin = UserFactory()
    victim = UserFactory()
    org_services.tenant_member_set(tenant=world["tenant"], user=tadmin, role="admin")
    org_services.tenant_member_set(tenant=world["tenant"], user=victim, role="admin")
    _, raw = make_key(user=tadmin, tenant=world["tenant"], org=world["org1"], scopes=["*"])
    r = api.delete(f"{members_url(world['org1'])}{victim.public_id}/", HTTP_X_API_KEY=raw)
    assert r.status_code in (403, 404, 409), r.status_code
    assert TenantMembership.objects.filter(tenant=world["tenant"], user=victim, role="admin").exists()


# --- Pending invitations: docs/ui.md "Pending invitations (and their addresses) are shown only
# to those with members:write"; SPEC §2a "These rules hold on every channel".


def _invite(api: Any, world: dict[str, Any]) -> None:
    r = api.post(
        members_url(world["org1"]),
        {"email": "secret.hire@example.org", "role": "admin"},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 201 and r.json()["result"] == "invited", r.content
    api.credentials()


def test_viewer_does_not_read_pending_invitations_over_the_api(api: Any, world: dict[str, Any]) -> None:
    _invite(api, world)
    api.force_authenticate(world["viewer"])
    r = api.get(members_url(world["org1"]))
    assert r.status_code == 200, r.content
    assert "secret.hire@example.org" not in r.content.decode()


def test_members_read_key_does_not_read_pending_invitations(api: Any, world: dict[str, Any]) -> None:
    _invite(api, world)
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["members:read"])
    r = api.get(members_url(world["org1"]), HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert "secret.hire@example.org" not in r.content.decode()


def test_an_unbound_full_access_key_still_reaches_every_key_of_its_owner(api: Any, world: dict[str, Any]) -> None:
    """The cap is the key's own permissions: a '*' unbound key keeps its reach (SPEC §2a)."""
    _, full_raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, scopes=["*"])
    target = world["owner_key"]
    r = api.post(f"{KEYS}{target.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=full_raw)
    assert r.status_code == 200, r.content
    assert SECRET.search(r.content.decode())


def test_the_owner_still_renames_and_reactivates_their_own_key(api: Any, world: dict[str, Any]) -> None:
    key = world["member_key"]
    api.force_authenticate(world["member"])
    hints = {"HTTP_X_WORKSPACE_ID": world["org1"].public_id}
    assert api.post(f"{KEYS}{key.public_id}/deactivate/", **hints).status_code == 200
    assert api.post(f"{KEYS}{key.public_id}/activate/", **hints).status_code == 200
    r = api.patch(f"{KEYS}{key.public_id}/", {"name": "renamed", "metadata": {"a": 1}}, format="json", **hints)
    assert r.status_code == 200, r.content
    key.refresh_from_db()
    assert (key.name, key.metadata, key.is_active) == ("renamed", {"a": 1}, True)


def test_an_admin_may_still_narrow_and_deactivate_another_persons_key(api: Any, world: dict[str, Any]) -> None:
    key = world["member_key"]
    api.force_authenticate(world["admin"])
    hints = {"HTTP_X_WORKSPACE_ID": world["org1"].public_id}
    r = api.patch(f"{KEYS}{key.public_id}/", {"scopes": ["scans:read"], "name": key.name}, format="json", **hints)
    assert r.status_code == 200, r.content
    assert api.post(f"{KEYS}{key.public_id}/deactivate/", **hints).status_code == 200


def test_members_write_callers_still_see_pending_invitations(api: Any, world: dict[str, Any]) -> None:
    _invite(api, world)
    r = api.get(members_url(world["org1"]), HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    assert [i["email"] for i in r.json()["pending_invitations"]] == ["secret.hire@example.org"]
