"""A review of the seed systems' surfaces read as their integrators read them (SPEC §3, §4,
§5a; ../shared/seeds/). Expectations come from the seed documents and the SPEC, never from
the code: each test names the sentence it holds Tater to.

- ``TestTwoKeyHeaders``: a request with a key in ``X-API-Key`` and another in its alias
  ``X-Agent-API-Key`` (TigerTrust's documented header) was answered as the ``X-API-Key`` key,
  the other silently ignored, even when revoked (SPEC §3 names both headers; of two
  credentials neither may be guessed to be the one meant). [was failing; fixed]
- ``TestRefusalsBeforeTheViewInTheSystemsFormat``: a request refused before any view ran
  (a Host header Django refuses: 400; an unexpected failure in the middleware: 500; a database
  outage while the session loads: 503) answered
  in Tater's catalog format on Tatry's, taap.it's and Taffy's paths (SPEC §3: "in that
  system's error format, whatever fails"). [was failing; fixed]
- ``TestRepeatedOrgHints``: ``?organizationId=A&organizationId=B`` (or ``tenantId`` twice)
  was read as its last value, the other silently dropped, where SPEC §4 refuses two org hints
  naming different orgs with 400 VALIDATION_ERROR rather than let one win. [was failing; fixed]
- ``TestAnUnverifiedSessionOnTheKeyOnlyPaths``: a signed-in browser whose tenant requires 2FA
  it has not passed, calling Tatry's or taap.it's paths (which take keys, never sessions)
  without a key, got Tater's 403 ``MFA_REQUIRED`` in the catalog format, not the system's 401
  "missing key" in its own shape (SPEC §3, §5a). [was failing; fixed]
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from apikeys import services
from orgs.models import Tenant
from tests.factories import make_key
from tests.surfaces.conftest import bearer, json_of
from tests.surfaces.test_seed_review import tatry_error

pytestmark = pytest.mark.django_db
VALIDATE, KEYS, WORKSPACES, TOKEN = "/v1/auth/validate", "/v1/auth/keys", "/v1/workspaces", "/auth/token"


def taapit_error(response: Any, status: int) -> str:
    body = json_of(response, status)
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body  # taap.it: {"detail": "..."}
    return body["detail"]


def taffy_error(response: Any, status: int) -> list[str]:
    body = json_of(response, status)
    assert set(body) == {"errors", "data"} and body["data"] is None, body  # Taffy: {"errors": [], "data": ...}
    assert body["errors"] and all(isinstance(e, str) for e in body["errors"]), body
    return body["errors"]


class TestTwoKeyHeaders:
    """SPEC §3: "X-API-Key is canonical; X-Agent-API-Key is accepted as an alias"; seed 002
    (TigerTrust) sends its agent keys as ``X-Agent-API-Key``. Two keys in the two headers are
    two credentials: a revoked one is never overlooked because the other is valid (SPEC §2:
    revocation is final), and a request is never answered as one of them by a guess."""

    @pytest.fixture
    def revoked_raw(self, world: dict[str, Any]) -> str:
        key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="leaked")
        services.apikey_revoke(api_key=key, actor=world["owner"])
        return raw

    def test_tatry_refuses_a_revoked_alias_beside_a_valid_key(self, api, world, revoked_raw):
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"], HTTP_X_AGENT_API_KEY=revoked_raw)
        assert tatry_error(r, 401)["code"] == "auth_invalid_key"

    def test_taapit_refuses_two_different_keys(self, api, world, revoked_raw):
        r = api.get(WORKSPACES, HTTP_X_API_KEY=world["owner_raw"], HTTP_X_AGENT_API_KEY=revoked_raw)
        taapit_error(r, 401)

    def test_keys_of_two_tenants_are_never_guessed_between(self, api, world):
        r = api.get(KEYS, HTTP_X_API_KEY=world["owner_raw"], HTTP_X_AGENT_API_KEY=world["other_raw"])
        assert tatry_error(r, 401)["code"] == "auth_invalid_key"

    def test_the_core_refuses_them_too(self, api, world, revoked_raw):
        r = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=world["owner_raw"], HTTP_X_AGENT_API_KEY=revoked_raw)
        assert json_of(r, 401)["error"] == "UNAUTHORIZED"

    def test_the_same_key_in_both_headers_is_one_credential(self, api, world):
        """Guard: a client (or proxy) that sends the key under both names is not refused."""
        raw = world["owner_raw"]
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw, HTTP_X_AGENT_API_KEY=raw)
        assert json_of(r, 200)["data"]["valid"] is True


class TestRefusalsBeforeTheViewInTheSystemsFormat:
    """SPEC §3: "Every response ... under the seed systems' paths (section 5a) is JSON in that
    system's error format, whatever fails". A refusal made before the view runs (Django's
    host check, a failure in the middleware) is still an answer on that system's path."""

    @pytest.fixture(autouse=True)
    def _hosts(self) -> Any:
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            yield

    def test_tatry_bad_host(self, api, world):
        r = api.get(VALIDATE, HTTP_HOST="evil.example", **bearer(world["owner_raw"]))
        assert tatry_error(r, 400)["code"] == "validation_error"

    def test_taapit_bad_host(self, api, world):
        taapit_error(api.get(WORKSPACES, HTTP_HOST="evil.example", **bearer(world["owner_raw"])), 400)

    def test_taffy_bad_host(self, api):
        taffy_error(api.post(TOKEN, {}, format="json", HTTP_HOST="evil.example"), 400)

    def test_taffy_other_form_of_the_path(self, api):
        taffy_error(api.post(TOKEN + "/", {}, format="json", HTTP_HOST="evil.example"), 400)

    @pytest.mark.parametrize("path", [VALIDATE, WORKSPACES, TOKEN])
    def test_an_unexpected_failure_in_the_middleware(self, world, path):
        client = APIClient(raise_request_exception=False)
        with mock.patch(
            "django.contrib.sessions.middleware.SessionMiddleware.process_request", side_effect=RuntimeError("boom")
        ):
            r = client.post(path, {}, format="json", **bearer(world["owner_raw"]))
        assert b"boom" not in r.content and b"Traceback" not in r.content
        if path == VALIDATE:
            assert tatry_error(r, 500)["code"] == "internal_error"
        elif path == WORKSPACES:
            taapit_error(r, 500)
        else:
            taffy_error(r, 500)

    @pytest.mark.parametrize("path", [VALIDATE, WORKSPACES, TOKEN])
    def test_a_database_outage_before_the_view(self, world, monkeypatch, path):
        """SPEC §12/§3: a lost database is a 503 with Retry-After, in the path's format, also
        when it strikes before the view (the session of a signed-in browser is loaded first)."""
        client = APIClient(raise_request_exception=False)
        client.force_login(world["owner"])

        def lost(self: Any) -> Any:
            raise OperationalError("could not connect to server: Connection refused")

        monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", lost)
        r = client.post(path, {}, format="json", **bearer(world["owner_raw"]))
        assert int(r["Retry-After"]) > 0
        if path == VALIDATE:
            assert tatry_error(r, 503)["code"] == "service_unavailable"
        elif path == WORKSPACES:
            taapit_error(r, 503)
        else:
            taffy_error(r, 503)

    def test_unknown_paths_keep_the_catalog_format(self, api):
        """Guard: /v1/ is shared by Tatry and taap.it, so an unknown path there names no system."""
        assert json_of(api.get("/v1/nothing-here"), 404)["error"] == "NOT_FOUND"


class TestRepeatedOrgHints:
    """SPEC §4: "organizationId and X-Workspace-ID naming different orgs is a 400
    VALIDATION_ERROR": two org hints that disagree are refused, never one of them silently
    winning. The same parameter sent twice with two orgs is two hints that disagree (HTTP
    parameter pollution: a proxy that checks the first value and a server that reads the
    last must never see different orgs)."""

    @pytest.fixture
    def unbound_raw(self, world: dict[str, Any]) -> str:
        return make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")[1]

    def test_tatry_unbound_key(self, api, world, unbound_raw):
        org1, org2 = world["org1"].public_id, world["org2"].public_id
        r = api.get(f"{KEYS}?organizationId={org1}&organizationId={org2}", **bearer(unbound_raw))
        error = tatry_error(r, 400)
        assert error["code"] == "validation_error" and "organizationId" in error["details"]["fields"]

    def test_tatry_validate_org_key_own_org_last(self, api, world):
        org1, org2 = world["org1"].public_id, world["org2"].public_id
        r = api.get(f"{VALIDATE}?organizationId={org2}&organizationId={org1}", **bearer(world["owner_raw"]))
        assert tatry_error(r, 400)["code"] == "validation_error"

    def test_taapit(self, api, world, unbound_raw):
        org1, org2 = world["org1"].public_id, world["org2"].public_id
        taapit_error(api.get(f"{WORKSPACES}?organizationId={org1}&organizationId={org2}", **bearer(unbound_raw)), 400)

    def test_tenant_id_twice(self, api, world):
        mine, other = world["tenant"].public_id, world["other_tenant"].public_id
        r = api.get(f"{KEYS}?tenantId={other}&tenantId={mine}", **bearer(world["owner_raw"]))
        assert tatry_error(r, 400)["code"] == "validation_error"

    def test_the_same_org_twice_is_one_hint(self, api, world):
        """Guard: a repeated parameter naming one org is that org."""
        org1 = world["org1"].public_id
        r = api.get(f"{KEYS}?organizationId={org1}&organizationId={org1}", **bearer(world["owner_raw"]))
        assert json_of(r, 200)["status"] == "success"


class TestAnUnverifiedSessionOnTheKeyOnlyPaths:
    """SPEC §5a: Tatry's and taap.it's paths take a key (``Authorization: Bearer`` or
    ``X-API-Key``), never a session; SPEC §3: every answer there is in that system's error
    format. A browser still signed in to Tater, whose tenant requires 2FA it has not passed,
    calling them without a key is a caller without a key (401 in the system's shape), not a
    session to send to 2FA enrolment in Tater's catalog format."""

    @pytest.fixture
    def client(self, world: dict[str, Any]) -> APIClient:
        Tenant.objects.filter(pk=world["tenant"].pk).update(require_2fa=True)
        client = APIClient()
        client.force_login(world["owner"])
        return client

    def test_tatry_validate(self, client):
        error = tatry_error(client.get(VALIDATE), 401)
        assert error["code"] == "auth_invalid_key" and error["details"]["key_status"] == "missing"

    def test_tatry_keys(self, client):
        assert tatry_error(client.get(KEYS), 401)["code"] == "auth_invalid_key"

    def test_taapit(self, client):
        taapit_error(client.get(WORKSPACES), 401)

    def test_the_session_still_lends_the_key_nothing(self, client, world):
        """Guard: with a key, the key's answer (SPEC §2a)."""
        assert json_of(client.get(VALIDATE, **bearer(world["owner_raw"])), 200)["data"]["valid"] is True

    def test_the_core_still_sends_the_session_to_enrol(self, client):
        """Guard: /api/v1/ takes sessions, and the tenant's 2FA policy applies to them (SPEC §8)."""
        assert json_of(client.get("/api/v1/keys/"), 403)["error"] == "MFA_REQUIRED"
