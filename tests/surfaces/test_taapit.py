"""taap.it's API as its integrators know it (seed 004, SPEC §5a): ``GET /v1/workspaces``
with ``Authorization: Bearer``, workspaces as a JSON array, errors as ``{"detail": ...}``."""

from __future__ import annotations

import pytest

from apikeys import services
from tests.factories import make_key
from tests.surfaces.conftest import bearer, json_of

pytestmark = pytest.mark.django_db
WORKSPACES = "/v1/workspaces"


def test_org_key_lists_its_own_workspace(api, world):
    body = json_of(api.get(WORKSPACES, **bearer(world["owner_raw"])), 200)
    assert [w["id"] for w in body] == [world["org1"].public_id]
    assert body[0]["name"] == world["org1"].name and body[0]["tenant_id"] == world["tenant"].public_id


def test_unbound_key_lists_every_workspace_of_its_tenant(api, world):
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
    body = json_of(api.get(WORKSPACES, **bearer(raw)), 200)
    assert {w["id"] for w in body} == {world["org1"].public_id, world["org2"].public_id}


def test_read_only_and_public_keys_list_too(api, world):
    _, read_only = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*:read"])
    _, public = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public", scopes=["*:read"]
    )
    for raw in (read_only, public):
        assert len(json_of(api.get(WORKSPACES, **bearer(raw)), 200)) == 1


def test_x_api_key_and_trailing_slash(api, world):
    assert json_of(api.get(WORKSPACES + "/", HTTP_X_API_KEY=world["owner_raw"]), 200)


@pytest.mark.parametrize("value", ["taapit_abc123def456ghi789", "tater_" + "0" * 32])
def test_invalid_key(api, world, value):
    r = api.get(WORKSPACES, **bearer(value))
    assert json_of(r, 401) == {"detail": "Invalid API key"}
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_not_a_bearer_value(api):
    assert json_of(api.get(WORKSPACES, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"), 401) == {"detail": "Invalid API key"}


def test_missing_key(api):
    assert json_of(api.get(WORKSPACES), 401) == {"detail": "Authentication credentials were not provided."}


def test_revoked_and_deactivated_keys_say_so(api, world):
    services.apikey_set_active(api_key=world["member_key"], actor=world["member"], active=False)
    assert json_of(api.get(WORKSPACES, **bearer(world["member_raw"])), 401) == {"detail": "API key is deactivated"}
    services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
    assert json_of(api.get(WORKSPACES, **bearer(world["owner_raw"])), 401) == {"detail": "API key has been revoked"}


def test_missing_permission(api, world):
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["scans:read"])
    body = json_of(api.get(WORKSPACES, **bearer(raw)), 403)
    assert set(body) == {"detail"} and "organizations:read" in body["detail"]


def test_org_hints_naming_different_orgs_are_400(api, world):
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
    r = api.get(
        f"{WORKSPACES}?organizationId={world['org1'].public_id}",
        HTTP_X_WORKSPACE_ID=world["org2"].public_id,
        **bearer(raw),
    )
    body = json_of(r, 400)
    assert set(body) == {"detail"} and "X-Workspace-ID" in body["detail"]


def test_foreign_org_hint_is_refused(api, world):
    r = api.get(f"{WORKSPACES}?organizationId={world['other_org'].public_id}", **bearer(world["owner_raw"]))
    assert set(json_of(r, 403)) == {"detail"}


def test_only_reading_is_served(api, world):
    r = api.post(WORKSPACES, {"name": "Marketing"}, format="json", **bearer(world["owner_raw"]))
    assert set(json_of(r, 405)) == {"detail"}
