"""Tatry's Authentication API as its integrators know it (seed 001, SPEC §5a): the paths,
``Authorization: Bearer``, the ``{"status": ...}`` envelope and Tatry's error codes, served
by the core (same key checks, reach and policy as /api/v1/)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey
from tests.factories import make_key
from tests.surfaces.conftest import bearer, json_of

pytestmark = pytest.mark.django_db
VALIDATE = "/v1/auth/validate"
KEYS = "/v1/auth/keys"


def success(response: Any, status: int = 200) -> Any:
    body = json_of(response, status)
    assert body["status"] == "success", body
    return body["data"]


def tatry_error(response: Any, status: int, code: str) -> dict[str, Any]:
    body = json_of(response, status)
    assert body["status"] == "error", body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


class TestValidate:
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_bearer_key_validates(self, api, world, method):
        data = success(getattr(api, method)(VALIDATE, **bearer(world["owner_raw"])))
        assert data["valid"] is True
        assert data["organization_id"] == world["org1"].public_id
        assert data["id"] == world["owner_key"].public_id
        assert "keys:write" in data["permissions"]
        assert data["rate_limits"] == {"requests_per_minute": 60, "requests_per_hour": 1000}  # free plan

    def test_x_api_key_works_too(self, api, world):
        assert success(api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]))["valid"] is True

    @pytest.mark.parametrize("url", ["/v1/auth/validate/", "/v1/validate", "/v1/validate/"])
    def test_other_forms_of_the_path(self, api, world, url):
        assert success(api.get(url, **bearer(world["owner_raw"])))["valid"] is True

    def test_rate_limits_show_the_plan_and_the_keys_override(self, api, world):
        world["tenant"].plan = "pro"
        world["tenant"].save()
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="5/min")
        assert success(api.get(VALIDATE, **bearer(raw)))["rate_limits"] == {
            "requests_per_minute": 5,
            "requests_per_hour": 300,
        }
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="100/hour")
        assert success(api.get(VALIDATE, **bearer(raw)))["rate_limits"] == {
            "requests_per_minute": 100,
            "requests_per_hour": 100,
        }

    @pytest.mark.parametrize("key_type", ["agent", "public"])
    def test_every_key_type_validates_with_either_method(self, api, world, key_type):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type=key_type, scopes=["scans:read"]
        )
        for method in ("get", "post"):
            assert success(getattr(api, method)(VALIDATE, **bearer(raw)))["valid"] is True

    def test_rate_limit_headers(self, api, world):
        r = api.get(VALIDATE, **bearer(world["owner_raw"]))
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(r.headers)

    def test_missing_key(self, api):
        error = tatry_error(api.get(VALIDATE), 401, "auth_invalid_key")
        assert error["details"]["key_status"] == "missing"
        assert error["details"]["tater_error"] == "UNAUTHORIZED"

    @pytest.mark.parametrize("value", ["tater_" + "0" * 32, "nope", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"])
    def test_unknown_or_malformed_key(self, api, world, value):
        error = tatry_error(api.get(VALIDATE, **bearer(value)), 401, "auth_invalid_key")
        assert error["details"]["key_status"] == "invalid"
        assert value not in str(error)

    def test_challenge_names_bearer(self, api):
        assert api.get(VALIDATE)["WWW-Authenticate"].startswith("Bearer")

    def test_revoked_key(self, api, world):
        services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
        error = tatry_error(api.post(VALIDATE, **bearer(world["owner_raw"])), 401, "auth_invalid_key")
        assert error["details"] == {"key_status": "revoked", "tater_error": "KEY_REVOKED"}

    def test_deactivated_key(self, api, world):
        services.apikey_set_active(api_key=world["owner_key"], actor=world["owner"], active=False)
        error = tatry_error(api.get(VALIDATE, **bearer(world["owner_raw"])), 401, "auth_invalid_key")
        assert error["details"]["key_status"] == "inactive"

    def test_expired_key(self, api, world):
        key, raw = make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            expires_at=timezone.now() + timedelta(seconds=5),
        )
        past = timezone.now() - timedelta(seconds=5)
        ApiKey.objects.filter(pk=key.pk).update(expires_at=past)
        error = tatry_error(api.get(VALIDATE, **bearer(raw)), 401, "auth_expired_key")
        assert error["message"] == "API key has expired"
        assert error["details"]["expired_at"] == past.isoformat().replace("+00:00", "Z")

    def test_wrong_method_is_a_tatry_error(self, api, world):
        tatry_error(api.delete(VALIDATE, **bearer(world["owner_raw"])), 405, "method_not_allowed")

    def test_org_hints_naming_different_orgs_are_400(self, api, world):
        r = api.get(
            f"{VALIDATE}?organizationId={world['org1'].public_id}",
            HTTP_X_WORKSPACE_ID=world["org2"].public_id,
            **bearer(world["owner_raw"]),
        )
        error = tatry_error(r, 400, "validation_error")
        assert "organizationId" in error["details"]["fields"]

    def test_foreign_org_hint_is_permission_denied(self, api, world):
        r = api.get(f"{VALIDATE}?organizationId={world['other_org'].public_id}", **bearer(world["owner_raw"]))
        error = tatry_error(r, 403, "auth_permission_denied")
        assert error["details"]["tater_error"] == "WORKSPACE_ACCESS_DENIED"


class TestListKeys:
    def test_lists_the_keys_the_caller_reaches(self, api, world):
        data = success(api.get(KEYS, **bearer(world["owner_raw"])))
        ids = {item["id"] for item in data["keys"]}
        # The owner's key reaches the owner's keys of its org (SPEC §2a), never another tenant's.
        assert world["owner_key"].public_id in ids and world["other_key"].public_id not in ids
        assert data["total"] == len(data["keys"])
        item = next(i for i in data["keys"] if i["id"] == world["owner_key"].public_id)
        assert {"id", "name", "status", "created_at", "last_used_at"} <= set(item)
        assert item["status"] == "active" and item["name"] == "owner key"

    def test_status_limit_offset(self, api, world):
        for i in range(3):
            make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"k{i}")
        revoked, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="gone")
        services.apikey_revoke(api_key=revoked, actor=world["owner"])
        active = success(api.get(f"{KEYS}?status=active&limit=2&offset=0", **bearer(world["owner_raw"])))
        assert len(active["keys"]) == 2 and active["total"] == 4
        assert all(k["status"] == "active" for k in active["keys"])
        rest = success(api.get(f"{KEYS}?status=active&limit=2&offset=2", **bearer(world["owner_raw"])))
        assert len(rest["keys"]) == 2
        assert {k["id"] for k in rest["keys"]}.isdisjoint({k["id"] for k in active["keys"]})
        gone = success(api.get(f"{KEYS}?status=revoked", **bearer(world["owner_raw"])))
        assert [k["id"] for k in gone["keys"]] == [revoked.public_id]

    def test_missing_scope_is_permission_denied_with_both_lists(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["scans:read"])
        error = tatry_error(api.get(KEYS, **bearer(raw)), 403, "auth_permission_denied")
        assert error["details"]["required_permissions"] == ["keys:read"]
        assert error["details"]["current_permissions"] == ["scans:read"]

    def test_bad_filter_is_a_validation_error(self, api, world):
        error = tatry_error(api.get(f"{KEYS}?status=bogus", **bearer(world["owner_raw"])), 400, "validation_error")
        assert "status" in error["details"]["fields"]

    def test_org_hints_naming_different_orgs_are_400(self, api, world):
        r = api.get(
            f"{KEYS}?organizationId={world['org1'].public_id}",
            HTTP_X_WORKSPACE_ID=world["org2"].public_id,
            **bearer(world["owner_raw"]),
        )
        tatry_error(r, 400, "validation_error")

    def test_unbound_key_picks_the_org_with_a_hint(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
        tatry_error(api.get(KEYS, **bearer(raw)), 400, "ambiguous_org")
        data = success(api.get(f"{KEYS}?organizationId={world['org1'].public_id}", **bearer(raw)))
        assert world["owner_key"].public_id in {k["id"] for k in data["keys"]}

    def test_write_methods_are_not_served(self, api, world):
        tatry_error(
            api.post(KEYS, {"name": "x"}, format="json", **bearer(world["owner_raw"])), 405, "method_not_allowed"
        )
