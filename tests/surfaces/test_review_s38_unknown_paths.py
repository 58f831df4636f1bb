"""Session 38 review: an unknown path under a seed system's own prefix (SPEC §3, §5a).

SPEC §3: "Every response under /api/ and under the seed systems' paths (section 5a) is JSON
in that system's error format, whatever fails: ... unknown paths". ``/v1/auth/`` is Tatry's
(seed 001), ``/v1/workspaces/`` taap.it's (seed 004), ``/auth/`` Taffy's (seed 003): a miss
there was answered in Tater's catalog format (``{"error": "NOT_FOUND", ...}``), on which a
Tatry client reading ``body["error"]["code"]`` fails (``error`` is a string, not an object),
and a taap.it or Taffy client finds no ``detail`` / ``errors``. [was failing; fixed]

``/v1/`` itself is shared by Tatry and taap.it: a miss directly under it names no system and
keeps the catalog format (guarded in test_seed_review_s33.py).
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.surfaces.conftest import bearer, json_of
from tests.surfaces.test_seed_review import tatry_error
from tests.surfaces.test_seed_review_s33 import taapit_error, taffy_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/auth/keys/key_123"),  # a Tatry client guessing a key's own page
        ("delete", "/v1/auth/keys/key_123"),
        ("post", "/v1/auth/keys/key_123/revoke"),
        ("get", "/v1/auth/nothing"),
    ],
)
def test_tatry_miss_is_a_tatry_error(api, world, method, path):
    error = tatry_error(getattr(api, method)(path, **bearer(world["owner_raw"])), 404)
    assert error["code"] == "not_found" and error["details"]["tater_error"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["/v1/workspaces/ws_123", "/v1/workspaces/ws_123/members"])
def test_taapit_miss_is_a_detail(api, world, path):
    taapit_error(api.get(path, **bearer(world["owner_raw"])), 404)


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/auth/refresh"), ("get", "/auth/token/extra"), ("put", "/auth/")]
)
def test_taffy_miss_is_an_errors_list(api, method, path):
    taffy_error(getattr(api, method)(path, {}, format="json"), 404)


def test_both_forms_of_the_served_paths_are_still_served(api, world):
    """Guard (SPEC §3: "a missing or extra trailing slash (both forms are served)")."""
    for path in ("/v1/auth/keys/", "/v1/auth/validate/", "/v1/validate/"):
        assert json_of(api.get(path, **bearer(world["owner_raw"])), 200)["status"] == "success"
    assert isinstance(json_of(api.get("/v1/workspaces/", **bearer(world["owner_raw"])), 200), list)
    taffy_error(api.post("/auth/token/", {"username": world["owner"].email, "password": "x"}, format="json"), 401)


def test_a_miss_reads_no_credential(api):
    """Guard: a miss is a 404 whatever the key, and counts no failed authentication (SPEC §6):
    as before, and as under /api/."""
    guess = bearer("tater_" + "0" * 32)
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=2):
        for _ in range(3):
            assert api.get("/v1/auth/nothing", **guess).status_code == 404
        assert api.get("/v1/auth/validate", **guess).status_code == 401  # the first failure


def test_the_shared_v1_prefix_keeps_the_catalog_format(api):
    """Guard: /v1/ names no single system."""
    assert json_of(api.get("/v1/nothing-here"), 404)["error"] == "NOT_FOUND"


def test_a_miss_names_no_allowed_method(api):
    r = api.get("/v1/auth/nothing")
    assert r.status_code == 404 and not r.has_header("Allow")


@override_settings(TATER_MAX_UPLOAD_BYTES=16)
def test_a_body_over_the_limit_on_a_miss_is_in_the_systems_shape_too(api):
    big = '{"name": "' + "x" * 64 + '"}'
    assert tatry_error(api.post("/v1/auth/nothing", data=big, content_type="application/json"), 413)["code"] == (
        "payload_too_large"
    )
    taffy_error(api.post("/auth/nothing", data=big, content_type="application/json"), 413)
