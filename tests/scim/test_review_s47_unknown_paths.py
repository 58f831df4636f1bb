"""An identity provider configured with a slightly wrong tenant URL must get SCIM's own JSON
errors, never an HTML page, never a redirect (docs/scim.md §6: "anything else is a SCIM 404
... for every failure including ... unknown paths and methods"; SPEC §3's "JSON everywhere"
on API paths; RFC 7644 §3.12). ``/scim/v2`` without its slash answered Django's 301 to
``/scim/v2/`` (a client follows it with a GET, losing a POST's body; with DEBUG a POST was a
500), and ``/scim``, ``/scim/Users``, ``/scim/v1/Users`` Django's HTML 404."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
ELSEWHERE = ["/scim/v2", "/scim", "/scim/", "/scim/Users", "/scim/v1/Users", "/scim/v2/nope", "/scim/v2/Users/a/b"]
METHODS = ["get", "post", "put", "patch", "delete", "options"]


def _scim_error(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.get("Location"), r.content[:200])
    assert r["Content-Type"].startswith("application/scim+json"), r["Content-Type"]
    assert "Location" not in r
    body = r.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    return body


def _call(client, method: str, path: str, **headers):
    if method in ("get", "options", "delete"):
        return getattr(client, method)(path, **headers)
    return getattr(client, method)(path, data='{"schemas": []}', content_type="application/scim+json", **headers)


@pytest.mark.parametrize("path", ELSEWHERE)
@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_path_is_a_scim_404_whatever_the_method(acme, path: str, method: str) -> None:
    _scim_error(_call(acme.scim.client, method, path, HTTP_AUTHORIZATION=f"Bearer {acme.secret}"), 404)


@pytest.mark.parametrize("path", ELSEWHERE)
def test_without_a_token_it_is_a_scim_401_not_a_page(acme, path: str) -> None:
    r = _call(acme.scim.client, "post", path)
    _scim_error(r, 401)
    assert r["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/scim/v2/Users", "put"),
        ("/scim/v2/Users", "delete"),
        ("/scim/v2/Groups", "patch"),
        ("/scim/v2/.search", "get"),
        ("/scim/v2/Users/.search", "get"),
        ("/scim/v2/ServiceProviderConfig", "post"),
        ("/scim/v2/Schemas", "delete"),
        ("/scim/v2/ResourceTypes/User", "put"),
        ("/scim/v2/Users/some-id", "post"),
        ("/scim/v2/Groups/some-id/", "post"),
    ],
)
def test_a_wrong_method_is_a_scim_405_with_allow(acme, path: str, method: str) -> None:
    r = _call(acme.scim.client, method, path, HTTP_AUTHORIZATION=f"Bearer {acme.secret}")
    _scim_error(r, 405)
    assert method.upper() not in [m.strip() for m in r["Allow"].split(",")]


def test_the_tenant_url_still_serves_its_endpoints(acme) -> None:
    assert acme.scim.get("/ServiceProviderConfig").status_code == 200
    assert acme.scim.get("/Users").status_code == 200
    assert acme.scim.get("/Users/").status_code == 200
