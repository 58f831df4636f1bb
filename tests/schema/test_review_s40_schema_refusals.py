"""Session 40 review B: /api/schema/ and /api/docs/ refused a bad key without saying why
(SPEC §3 catalog).

An integrator whose HTTP client sends its key on every request (a client generator fetching
the schema, Swagger UI's "Authorize") got, for a revoked, expired, deactivated or unknown
key, ``401 {"error": "UNAUTHORIZED", "message": "Authentication required"}`` there, where
every other endpoint answers the catalog's row for that key: ``KEY_REVOKED`` "API key has
been revoked", ``KEY_EXPIRED`` with details.expired_at, ``KEY_INACTIVE``, "Invalid token",
"Invalid authorization header format". The two views render their answers as YAML or HTML,
so the catalog error went out through that renderer and was replaced, by status alone, with
the generic error of its status. Their errors are now the catalog's JSON itself, as on every
other path under /api/. [was failing; fixed]
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import make_key

pytestmark = pytest.mark.django_db

PAGES = ["/api/schema/", "/api/schema/?format=json", "/api/docs/"]


def refusal(response: Any, status: int, code: str, message: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert (body["error"], body["message"]) == (code, message), body
    assert body["request_id"] == response["X-Request-ID"], body
    return body


def keys(world: dict[str, Any]) -> dict[str, str]:
    """One key of each refused state, owned by the tenant owner in org 1."""
    owner, tenant, org = world["owner"], world["tenant"], world["org1"]
    revoked, revoked_raw = make_key(user=owner, tenant=tenant, org=org, name="revoked")
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    inactive, inactive_raw = make_key(user=owner, tenant=tenant, org=org, name="inactive")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    expired, expired_raw = make_key(user=owner, tenant=tenant, org=org, name="expired")
    expired.expires_at = timezone.now() - timedelta(days=1)
    expired.save(update_fields=["expires_at"])
    return {"revoked": revoked_raw, "inactive": inactive_raw, "expired": expired_raw}


@pytest.mark.parametrize("page", PAGES)
def test_a_refused_key_gets_its_catalog_row_as_on_the_api(api, world, page):
    raws = keys(world)
    expected = {
        "revoked": ("KEY_REVOKED", "API key has been revoked"),
        "inactive": ("KEY_INACTIVE", "API key is deactivated"),
        "expired": ("KEY_EXPIRED", "API key has expired"),
    }
    for state, (code, message) in expected.items():
        # The same refusal as the API's own endpoints give that key (consistency).
        refusal(api.get("/api/v1/keys/", HTTP_X_API_KEY=raws[state]), 401, code, message)
        body = refusal(api.get(page, HTTP_X_API_KEY=raws[state]), 401, code, message)
        if state == "expired":
            assert body["details"]["expired_at"], body


@pytest.mark.parametrize("page", PAGES)
def test_an_unknown_key_or_a_foreign_header_is_named(api, page):
    refusal(api.get(page, HTTP_X_API_KEY="tater_" + "0" * 32), 401, "UNAUTHORIZED", "Invalid token")
    refusal(
        api.get(page, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="),
        401,
        "UNAUTHORIZED",
        "Invalid authorization header format",
    )


def test_the_pages_still_serve_yaml_json_and_html(api, world):
    """Guards: only the errors changed."""
    key = {"HTTP_X_API_KEY": world["owner_raw"]}
    assert api.get("/api/schema/", **key)["Content-Type"].startswith("application/vnd.oai.openapi")
    assert json.loads(api.get("/api/schema/?format=json").content)["openapi"].startswith("3.")
    assert api.get("/api/docs/")["Content-Type"].startswith("text/html")
    refusal(api.post("/api/schema/"), 405, "METHOD_NOT_ALLOWED", 'Method "POST" not allowed.')
