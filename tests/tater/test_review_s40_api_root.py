"""Session 40 review B: ``/api`` itself (no trailing slash) was an HTML redirect (SPEC §3).

SPEC §3: "Every response under /api/ ... is JSON ..., whatever fails: ... a missing or extra
trailing slash (both forms are served), unknown paths". ``/api/`` is a JSON 404, but ``/api``
matched no route, so Django's APPEND_SLASH answered ``301 Location: /api/`` with an empty
``text/html`` body, for every method: a client following it re-sent a POST as a GET without
its body (to a 404), and with DEBUG on a POST there is Django's RuntimeError (a 500). The
seed prefixes already answer their bare form in their own shape (``/v1``, ``/auth``,
``/v1/auth``: surfaces.urls). [was failing; fixed]
"""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def catalog_404(response) -> None:
    assert response.status_code == 404, (response.status_code, response.get("Location"), response.content[:200])
    assert not response.has_header("Location")
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert body["error"] == "NOT_FOUND" and body["request_id"] == response["X-Request-ID"], body


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_bare_api_is_a_json_404(method):
    response = Client(enforce_csrf_checks=True).generic(method, "/api", b'{"a": 1}', content_type="application/json")
    if method == "HEAD":
        assert response.status_code == 404 and not response.has_header("Location")
    else:
        catalog_404(response)


def test_bare_api_with_a_key_and_a_query_is_a_json_404(world):
    catalog_404(Client().get("/api?organizationId=x", HTTP_X_API_KEY=world["owner_raw"]))


@override_settings(DEBUG=True)
def test_bare_api_post_with_debug_on_is_a_json_404_not_a_500():
    catalog_404(Client().post("/api", {"a": 1}, content_type="application/json"))


def test_api_slash_and_its_pages_are_unchanged(client):
    """Guards: /api/ was and stays the catalog's 404; the pages beside it keep their routes."""
    catalog_404(Client().get("/api/"))
    assert Client().get("/api/schema/").status_code == 200
    assert Client().get("/apixyz").status_code == 404
    assert not Client().get("/apixyz")["Content-Type"].startswith("application/json")
