"""Attacks on the seed systems' own paths (SPEC §5a) that the surface matrix
(tests/hardening/test_surface_matrix.py) does not express as one caller × one path: two
credentials in one request, a session beside a key, org hints on validate, paging the key
list, and spreading guesses over the seed paths and the core's to dodge the lockout (SPEC §6).
Expectations come from the SPEC; nothing of the surfaces' code is imported."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apikeys import services
from tests.factories import PASSWORD, make_key
from tests.surfaces.conftest import bearer, json_of

pytestmark = pytest.mark.django_db
VALIDATE, KEYS, WORKSPACES, TOKEN = "/v1/auth/validate", "/v1/auth/keys", "/v1/workspaces", "/auth/token"
KEY_PATHS = (VALIDATE, KEYS, WORKSPACES)


def _tenant_markers(world: dict[str, Any], tenant: str) -> list[str]:
    if tenant == "A":
        return [
            world["tenant"].public_id,
            world["org1"].public_id,
            world["org2"].public_id,
            world["owner_key"].public_id,
        ]
    return [world["other_tenant"].public_id, world["other_org"].public_id, world["other_key"].public_id]


def _tatry_error_code(response: Any) -> str:
    body = response.json()
    assert body["status"] == "error", body
    return body["error"]["code"]


@pytest.mark.parametrize("path", KEY_PATHS)
def test_a_second_key_never_rescues_a_revoked_one(api, world, path):
    """X-API-Key carries a revoked key, Authorization a valid one: refused (SPEC §2 revocation is final)."""
    services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
    response = api.get(path, HTTP_X_API_KEY=world["owner_raw"], **bearer(world["other_raw"]))
    assert response.status_code == 401, response.content
    assert not any(m in response.content.decode() for m in _tenant_markers(world, "B"))


@pytest.mark.parametrize("path", KEY_PATHS)
def test_two_keys_of_two_tenants_never_mix(api, world, path):
    """One key in X-API-Key, another tenant's as Bearer: never the Bearer key's data; refused, or
    answered as the X-API-Key key only (SPEC §1: nothing of one tenant to another's key)."""
    response = api.get(path, HTTP_X_API_KEY=world["other_raw"], **bearer(world["owner_raw"]))
    text = response.content.decode()
    assert response.status_code in (200, 401), text[:300]
    assert not any(m in text for m in _tenant_markers(world, "A")), text[:300]


@pytest.mark.parametrize("path", KEY_PATHS)
def test_a_session_beside_a_key_lends_it_nothing(world, path):
    """The tenant owner's browser session plus the member's key: the member key's answer (its
    reach), and with a revoked key a 401, never the session's reach (SPEC §2a)."""
    client = APIClient()
    client.force_login(world["owner"])
    as_key = APIClient().get(path, **bearer(world["member_raw"]))
    beside = client.get(path, **bearer(world["member_raw"]))
    assert beside.status_code == as_key.status_code, beside.content
    if path == KEYS:
        listed = {k["id"] for k in json_of(beside, 200)["data"]["keys"]}
        assert world["owner_key"].public_id not in listed
        assert listed == {k["id"] for k in as_key.json()["data"]["keys"]}
    services.apikey_revoke(api_key=world["member_key"], actor=world["member"])
    assert client.get(path, **bearer(world["member_raw"])).status_code == 401


def test_validate_never_adopts_a_foreign_org(api, world):
    """SPEC §4 on validate: an org-bound key naming another org, or an unbound key naming another
    tenant's, is refused; an unbound key naming its own tenant's org stays the key it is."""
    hint = f"{VALIDATE}?organizationId="
    response = api.get(hint + world["org2"].public_id, **bearer(world["owner_raw"]))
    assert response.status_code == 403 and _tatry_error_code(response) == "auth_permission_denied"
    _, unbound = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
    response = api.get(hint + world["other_org"].public_id, **bearer(unbound))
    assert response.status_code == 403 and _tatry_error_code(response) == "auth_permission_denied"
    data = json_of(api.get(hint + world["org1"].public_id, **bearer(unbound)), 200)["data"]
    assert data["organization_id"] in (None, world["org1"].public_id) and data["tenant_id"] == world["tenant"].public_id
    response = api.get(f"{VALIDATE}?tenantId={world['other_tenant'].public_id}", **bearer(world["owner_raw"]))
    assert response.status_code == 403 and _tatry_error_code(response) == "auth_permission_denied"


def test_paging_the_key_list_reaches_nothing_more(api, world):
    """limit/offset walk the same keys the full list holds, with the same total (SPEC §2a)."""
    for n in range(3):
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"paged {n}")
    make_key(user=world["owner"], tenant=world["tenant"], org=world["org2"], name="other org")
    make_key(user=world["other_owner"], tenant=world["other_tenant"], org=world["other_org"], name="other tenant")
    full = json_of(api.get(f"{KEYS}?limit=200", **bearer(world["owner_raw"])), 200)["data"]
    walked = []
    for offset in range(full["total"] + 2):
        page = json_of(api.get(f"{KEYS}?limit=1&offset={offset}", **bearer(world["owner_raw"])), 200)["data"]
        assert page["total"] == full["total"]
        walked += [k["id"] for k in page["keys"]]
    assert walked == [k["id"] for k in full["keys"]]
    assert all(k["organization_id"] == world["org1"].public_id for k in full["keys"])


def test_guessing_keys_over_the_seed_paths_and_the_core_shares_one_lockout(api, world):
    """SPEC §6: failures from one client address count together wherever they land; the key
    holder is never locked out."""
    guess = "tater_" + "0" * 32
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
        statuses = [
            api.get(VALIDATE, **bearer(guess)).status_code,
            api.get(WORKSPACES, **bearer(guess)).status_code,
            api.get("/api/v1/auth/validate", HTTP_X_API_KEY=guess).status_code,  # the third failure locks
        ]
        assert statuses == [401, 401, 429]
        locked = api.get(KEYS, **bearer(guess))
        assert locked.status_code == 429 and _tatry_error_code(locked) == "locked_out"
        assert int(locked["Retry-After"]) > 0
        assert api.get(WORKSPACES, **bearer(guess)).status_code == 429
        assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=guess).json()["error"] == "LOCKED_OUT"
        assert api.get(KEYS, **bearer(world["owner_raw"])).status_code == 200


def test_guessing_a_password_over_taffy_and_the_core_shares_one_account_lockout(api, world):
    """SPEC §6: failed sign-ins against one account lock its password sign-in, whichever path
    (Taffy's exchange, the core's exchange, the JSON login) took them."""
    owner, org = world["owner"].email, world["org1"].public_id
    with override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=3):
        assert api.post(TOKEN, {"username": owner, "password": "x"}, format="json").status_code == 401
        assert api.post("/api/v1/auth/token", {"email": owner, "password": "x"}, format="json").status_code == 401
        assert api.post("/api/v1/auth/login", {"email": owner, "password": "x"}, format="json").status_code in (
            401,
            429,
        )
        right = {"username": owner, "password": PASSWORD, "organizationId": org}
        response = api.post(TOKEN, right, format="json")
        assert response.status_code == 429, response.content
        assert response.json()["data"] is None and "tater_" not in response.content.decode()
        login = api.post("/api/v1/auth/login", {"email": owner, "password": PASSWORD}, format="json")
        assert login.status_code == 429, login.content
