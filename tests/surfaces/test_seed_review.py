"""A review of the seed systems' surfaces read as their integrators read them (SPEC §3, §5a,
§6; ../shared/seeds/). Expectations come from the seed documents and the SPEC, never from the
code: each test names the sentence it holds Tater to.

- ``TestBodiesOnTatryValidate``: Tatry's ``POST /v1/auth/validate`` ignored its body (a
  malformed one, an unsupported type, unknown fields) where SPEC §3 wants 400/415 and SPEC §2a
  says unknown fields are "never ignored". [was failing; fixed]
- ``TestTooLargeInTheSystemsFormat``: a body over the size limit on a seed path answered in
  Tater's catalog format instead of "that system's error format" (SPEC §3). [was failing; fixed]
- ``TestTatryPermissionDeniedDetails``: Tatry's ``auth_permission_denied`` without the
  ``required_permissions`` / ``current_permissions`` its document and SPEC §5a give it.
  [failing; not fixed]
- ``TestRateLimitsOnTheSurfaces``: a key's quota is one across the seed paths and /api/v1/,
  and each surface's 429 is in its own format with ``Retry-After`` (SPEC §6, §5a).
  [guard: passed already, had no test]
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.factories import make_key
from tests.surfaces.conftest import bearer, json_of

pytestmark = pytest.mark.django_db
VALIDATE, KEYS, WORKSPACES, TOKEN = "/v1/auth/validate", "/v1/auth/keys", "/v1/workspaces", "/auth/token"


def tatry_error(response: Any, status: int) -> dict[str, Any]:
    body = json_of(response, status)
    assert set(body) == {"status", "error"} and body["status"] == "error", body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and isinstance(error["details"], dict)
    return error


class TestBodiesOnTatryValidate:
    """SPEC §3: "bad body or query → 400 VALIDATION_ERROR"; "Never ... a 500 for bad input";
    SPEC §2a: "Unknown or read-only fields in a body are a 400 VALIDATION_ERROR, never
    ignored." Tater serves ``POST /v1/auth/validate`` (what Tatry's SDK sends, with no body):
    a body it was sent is read, not skipped."""

    def test_the_sdks_empty_post_still_validates(self, api, world):
        """Guard: Tatry's SDK POSTs with ``Content-Type: application/json`` and no body."""
        r = api.post(VALIDATE, content_type="application/json", **bearer(world["owner_raw"]))
        assert json_of(r, 200)["data"]["valid"] is True

    def test_malformed_json_is_a_validation_error(self, api, world):
        r = api.post(VALIDATE, data="{bad", content_type="application/json", **bearer(world["owner_raw"]))
        assert tatry_error(r, 400)["code"] == "validation_error"

    def test_unknown_fields_are_refused_by_name(self, api, world):
        r = api.post(VALIDATE, {"api_key": "x", "bogus": 1}, format="json", **bearer(world["owner_raw"]))
        error = tatry_error(r, 400)
        assert error["code"] == "validation_error"
        assert {"api_key", "bogus"} <= set(error["details"]["fields"])

    def test_an_unsupported_content_type_is_415(self, api, world):
        r = api.post(VALIDATE, data="<key/>", content_type="application/xml", **bearer(world["owner_raw"]))
        assert tatry_error(r, 415)["code"] == "unsupported_media_type"


class TestTooLargeInTheSystemsFormat:
    """SPEC §3: "Every response under /api/ and under the seed systems' paths (section 5a) is
    JSON in that system's error format, whatever fails: ... bodies ... too large (413, on
    every endpoint)". A seed path names its system, so its 413 is in that system's shape
    (an unknown path under /v1/, shared by Tatry and taap.it, names none: not tested here)."""

    BIG = '{"name": "' + "x" * 4096 + '"}'

    @pytest.fixture(autouse=True)
    def _small_limit(self) -> Any:
        with override_settings(TATER_MAX_UPLOAD_BYTES=1024):
            yield

    def test_taffy(self, api):
        r = api.post(TOKEN, data=self.BIG, content_type="application/json")
        body = json_of(r, 413)
        assert set(body) == {"errors", "data"} and body["data"] is None, body  # Taffy: {"errors": [], "data": ...}
        assert body["errors"] and all(isinstance(e, str) for e in body["errors"])

    def test_taffy_other_form_of_the_path(self, api):
        body = json_of(api.post(TOKEN + "/", data=self.BIG, content_type="application/json"), 413)
        assert set(body) == {"errors", "data"}, body

    def test_tatry(self, api, world):
        r = api.post(VALIDATE, data=self.BIG, content_type="application/json", **bearer(world["owner_raw"]))
        assert tatry_error(r, 413)["code"] == "payload_too_large"

    def test_taapit(self, api, world):
        r = api.generic("GET", WORKSPACES, data=self.BIG, content_type="application/json", **bearer(world["owner_raw"]))
        body = json_of(r, 413)
        assert set(body) == {"detail"} and isinstance(body["detail"], str), body  # taap.it: {"detail": ...}

    def test_tigertrust_keeps_the_shape_it_shares_with_the_catalog(self, api):
        """Guard: TigerTrust's shape is the catalog's ({"error", "message"})."""
        body = json_of(api.post("/api/auth/login", data=self.BIG, content_type="application/json"), 413)
        assert body["error"] == "PAYLOAD_TOO_LARGE" and isinstance(body["message"], str)


class TestTatryPermissionDeniedDetails:
    """Tatry's document: ``auth_permission_denied (403)`` carries ``"details":
    {"required_permissions": [...], "current_permissions": [...]}``; SPEC §5a:
    "auth_permission_denied (details.required_permissions / current_permissions)". A Tatry
    client reads those lists from every auth_permission_denied it gets, whatever Tater's
    reason for the 403 (key type, allowlist, org hint)."""

    def _assert_tatry_shape(self, response: Any) -> None:
        error = tatry_error(response, 403)
        assert error["code"] == "auth_permission_denied", error
        assert isinstance(error["details"].get("required_permissions"), list), error
        assert isinstance(error["details"].get("current_permissions"), list), error

    def test_missing_scope(self, api, world):
        """Guard (already so)."""
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["scans:read"])
        self._assert_tatry_shape(api.get(KEYS, **bearer(raw)))

    def test_key_type_not_admitted(self, api, world):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public", scopes=["*:read"]
        )
        self._assert_tatry_shape(api.get(KEYS, **bearer(raw)))

    def test_org_hint_the_key_does_not_reach(self, api, world):
        r = api.get(f"{KEYS}?organizationId={world['org2'].public_id}", **bearer(world["owner_raw"]))
        self._assert_tatry_shape(r)

    def test_outside_the_allowlist_reveals_no_permissions(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=["10.9.9.0/24"])
        r = api.get(VALIDATE, **bearer(raw))
        self._assert_tatry_shape(r)
        # A caller outside the allowlist learns nothing of what the key may do.
        assert r.json()["error"]["details"]["current_permissions"] == []


class TestRateLimitsOnTheSurfaces:
    """SPEC §6: limits are per key (one quota whatever path is called); SPEC §5a: each surface
    answers in its own shape; seed 002 (TigerTrust): "API requests are rate-limited per API
    key" with ``X-RateLimit-*``. Guards: these passed already but had no test."""

    def test_one_quota_across_the_seed_paths_and_the_core(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="4/min")
        assert api.get(VALIDATE, **bearer(raw)).status_code == 200
        assert api.head(KEYS, **bearer(raw)).status_code == 200  # HEAD counts too
        assert api.get(WORKSPACES, **bearer(raw)).status_code == 200
        last = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
        assert last.status_code == 200 and last["X-RateLimit-Remaining"] == "0"
        tatry = api.post(VALIDATE, **bearer(raw))
        assert tatry_error(tatry, 429)["code"] == "rate_limited" and int(tatry["Retry-After"]) > 0
        taapit = api.get(WORKSPACES, **bearer(raw))
        assert set(json_of(taapit, 429)) == {"detail"} and int(taapit["Retry-After"]) > 0
        assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).json()["error"] == "RATE_LIMITED"
