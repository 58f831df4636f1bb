"""SPEC §2 ("a key can never be created ... with more than its creator has"; effective
permissions = key scopes ∩ the owner's role) and §2a ("keys only narrow"; "an API key acts
only ... within its own effective permissions"): through an API key nobody gets more than
that key has. A leaked key that may only manage members (``members:write``) must not make
its finder, or anyone, an org admin (every scope: keys, audit, settings) or a tenant admin.
A role is granted through a key only when the key holds every scope the role gives; the
owner's signed-in session, or a key with those scopes, grants it as before."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from orgs.models import Invitation, OrgMembership, TenantMembership
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db


def _members(org: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def _verified_user() -> Any:
    from allauth.account.models import EmailAddress

    user = UserFactory()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _refused_for_scopes(r: Any) -> None:
    assert r.status_code == 403, r.content
    body = r.json()
    assert body["error"] == "PERMISSION_DENIED"
    assert "audit:read" in body["details"]["required_permissions"]
    assert "audit:read" not in body["details"]["current_permissions"]


def test_a_members_only_key_cannot_add_an_org_admin(api: APIClient, world: dict[str, Any]) -> None:
    org = world["org1"]
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=org, scopes=["members:write"])
    newcomer = _verified_user()
    r = api.post(_members(org), {"email": newcomer.email, "role": "admin"}, format="json", HTTP_X_API_KEY=raw)
    _refused_for_scopes(r)
    assert not OrgMembership.objects.filter(user=newcomer).exists()
    r = api.post(_members(org), {"email": "finder@elsewhere.test", "role": "admin"}, format="json", HTTP_X_API_KEY=raw)
    _refused_for_scopes(r)
    assert not Invitation.objects.filter(email__iexact="finder@elsewhere.test").exists()


def test_a_members_only_key_cannot_promote_to_admin(api: APIClient, world: dict[str, Any]) -> None:
    org = world["org1"]
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=org, scopes=["members:write"])
    viewer = world["viewer"]
    r = api.patch(f"{_members(org)}{viewer.public_id}/", {"role": "admin"}, format="json", HTTP_X_API_KEY=raw)
    _refused_for_scopes(r)
    assert OrgMembership.objects.get(user=viewer, organization=org).role == "viewer"


def test_a_narrow_unbound_key_cannot_make_a_tenant_admin(api: APIClient, world: dict[str, Any]) -> None:
    org = world["org1"]
    _, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=None, scopes=["members:write", "organizations:read"]
    )
    member = world["member"]
    r = api.patch(
        f"{_members(org)}{member.public_id}/?organizationId={org.public_id}",
        {"tenant_role": "admin"},
        format="json",
        HTTP_X_API_KEY=raw,
    )
    _refused_for_scopes(r)
    assert not TenantMembership.objects.filter(user=member).exists()


def test_a_key_holding_the_roles_scopes_still_grants_it(api: APIClient, world: dict[str, Any]) -> None:
    org = world["org1"]
    # Read everything but the log, and manage members: enough to add a viewer, not an admin.
    _, raw = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=org,
        scopes=["organizations:read", "keys:read", "scans:read", "members:write"],
    )
    newcomer = _verified_user()
    r = api.post(_members(org), {"email": newcomer.email, "role": "viewer"}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 201, r.content
    r = api.patch(f"{_members(org)}{newcomer.public_id}/", {"role": "member"}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 403 and r.json()["error"] == "PERMISSION_DENIED"
    # The owner's full-access key grants admin, as the owner's session does.
    r = api.patch(
        f"{_members(org)}{newcomer.public_id}/",
        {"role": "admin"},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 200, r.content
    assert OrgMembership.objects.get(user=newcomer, organization=org).role == "admin"


def test_a_key_adds_a_tenant_admin_to_an_org_as_admin_which_gives_nothing(
    api: APIClient, world: dict[str, Any]
) -> None:
    """A tenant admin already holds every scope in every org: being made the org's admin too
    gives them nothing, so a key that could not make anyone else admin may do it."""
    from orgs import services as org_services

    org = world["org1"]
    tenant_admin = _verified_user()
    org_services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role="admin")
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=org, scopes=["members:write"])
    r = api.post(_members(org), {"email": tenant_admin.email, "role": "admin"}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 201, r.content
    assert OrgMembership.objects.get(user=tenant_admin, organization=org).role == "admin"
