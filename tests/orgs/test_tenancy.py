"""Tenant isolation in selectors and role scopes."""

from __future__ import annotations

import pytest

from apikeys import selectors as key_selectors
from orgs import roles, selectors
from orgs.access import for_user
from tater import scopes
from tater.exceptions import InvalidInput
from tests.factories import make_key


def test_every_role_maps_to_valid_scopes():
    for mapping in (roles.TENANT_ROLE_SCOPES, roles.ORG_ROLE_SCOPES):
        for role, granted in mapping.items():
            assert granted <= scopes.ALL_SCOPES, role
            for scope in granted:
                resource, action = scope.split(":")
                if action == "write":
                    assert f"{resource}:read" in granted, (role, scope)
    assert set(roles.ORG_ROLE_SCOPES) == set(roles.OrgRole.values)
    assert set(roles.TENANT_ROLE_SCOPES) == set(roles.TenantRole.values)
    assert "audit:read" not in roles.ORG_ROLE_SCOPES["viewer"]
    assert not any(s.endswith(":write") for s in roles.ORG_ROLE_SCOPES["viewer"])


@pytest.mark.django_db
def test_selectors_never_cross_tenants(world):
    make_key(user=world["other_owner"], tenant=world["other_tenant"], org=None, name="globex cron")
    access = for_user(
        world["owner"], hint=None, tenant_hint_value=None, session_org=world["org1"].public_id, org_required=True
    )
    keys = key_selectors.apikey_list(access=access, filters={})
    assert keys.exists()
    assert not keys.filter(tenant=world["other_tenant"]).exists()
    reachable = selectors.orgs_reachable_by_user(user=world["owner"])
    assert set(reachable) == {world["org1"], world["org2"]}
    assert set(selectors.org_list_for_user(tenant=world["tenant"], user=world["member"])) == {world["org1"]}
    assert not selectors.org_list_for_user(tenant=world["other_tenant"], user=world["owner"]).exists()


@pytest.mark.django_db
def test_session_user_cannot_hint_foreign_org(api, world):
    api.force_login(world["owner"])
    r = api.get("/api/v1/keys/", {"organizationId": world["other_org"].public_id})
    assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED")
    r = api.get("/api/v1/keys/")
    assert (r.status_code, r.json()["error"]) == (400, "AMBIGUOUS_ORG")
    r = api.get("/api/v1/keys/", {"organizationId": world["org2"].public_id})
    assert r.status_code == 200


@pytest.mark.django_db
def test_tenant_without_orgs_says_so_instead_of_asking_to_choose(api):
    """SPEC §4: with no hint an unbound key resolves to its tenant's only org and a choice
    among several is AMBIGUOUS_ORG; a tenant with none has nothing to choose from, and its
    callers are told that (not to pass organizationId, which could name nothing)."""
    from tests.factories import make_tenant

    tenant, owner, _ = make_tenant(name="Empty", orgs=0)
    _, raw = make_key(user=owner, tenant=tenant, org=None, name="unbound")
    r = api.get("/api/v1/keys/", HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED"), r.json()
    assert "No organization" in r.json()["message"]
    api.force_login(owner)
    r = api.get("/api/v1/keys/")
    assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED"), r.json()
    assert "No organization" in r.json()["message"]


@pytest.mark.parametrize("name", ["Acme\r\nBcc: all@example.com", "Acme\x1b[31m", "Acme \u202egnp.exe"])
@pytest.mark.django_db
def test_org_and_tenant_names_are_one_line_of_text(api, world, name):
    """A name reaches mail subjects (invitations) and every list: a line break, an escape
    code or a text-direction control is a 400 naming the field, on create and rename."""
    from orgs import services

    api.force_login(world["owner"])
    r = api.post("/api/v1/organizations/", {"name": name}, format="json")
    assert (r.status_code, r.json()["error"], list(r.json()["details"]["fields"])) == (
        400,
        "VALIDATION_ERROR",
        ["name"],
    )
    r = api.patch(f"/api/v1/organizations/{world['org1'].public_id}/", {"name": name}, format="json")
    assert r.status_code == 400, r.json()
    with pytest.raises(InvalidInput):
        services.tenant_update(tenant=world["tenant"], actor=world["owner"], name=name)
    with pytest.raises(InvalidInput):
        services.tenant_create(name=name, owner=world["owner"])
    world["org1"].refresh_from_db()
    assert world["org1"].name != name
