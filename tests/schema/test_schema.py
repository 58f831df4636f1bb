"""The OpenAPI schema: generated without warnings, complete, and true to the views."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tater.api.permissions import required_scope

API_PREFIX = "/api/v1/"


@pytest.fixture(scope="module")
def schema(tmp_path_factory: Any) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # --fail-on-warn raises on any warning or error; --validate checks it against the OpenAPI 3 spec.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _walk(patterns: list[Any], prefix: str) -> list[tuple[str, Any]]:
    routes = []
    for p in patterns:
        if isinstance(p, URLResolver):
            routes += _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            routes.append((prefix + str(p.pattern), p.callback))
    return routes


def _v1_routes() -> dict[str, Any]:
    routes = {}
    for route, callback in _walk(get_resolver("tater.api.urls").url_patterns, API_PREFIX):
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        routes[path] = callback
    return routes


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def test_every_v1_route_is_documented(schema):
    documented = set(schema["paths"])
    for path in _v1_routes():
        # A path routed both with and without a trailing slash is documented once.
        assert path in documented or path.rstrip("/") in documented, path


def test_every_documented_path_resolves(schema):
    for path in schema["paths"]:
        # Ids in their own shape where a route insists on it (scan ids), else a placeholder.
        shaped = {"scan_id": "scan-00000000-0000-0000-0000-000000000000"}
        concrete = re.sub(r"\{(\w+)\}", lambda m: shaped.get(m.group(1), "x1"), path)
        match = resolve(concrete)
        assert getattr(match.func, "view_class", None) is not None, path


def test_every_operation_documents_errors_in_the_catalog_format(schema):
    for path, method, op in _operations(schema):
        errors = {code for code in op["responses"] if code >= "400"}
        assert errors, (method, path)
        for code in errors:
            ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorOutput", (method, path, code)
        if op.get("security") and {} not in op["security"]:
            assert {"401", "403", "404", "429"} <= errors, (method, path)
        if method in ("post", "patch", "put") and op.get("requestBody"):
            assert "400" in errors, (method, path)
    for path in ("/api/v1/scans/upload", "/api/scans/upload"):
        assert "413" in schema["paths"][path]["post"]["responses"]
        examples = schema["paths"][path]["post"]["responses"]["413"]["content"]["application/json"]["examples"]
        assert any(e["value"]["error"] == "PAYLOAD_TOO_LARGE" for e in examples.values())


def test_scopes_match_the_views(schema):
    routes = _v1_routes()
    for path, method, op in _operations(schema):
        if not path.startswith(API_PREFIX):
            continue
        callback = routes.get(path) or routes.get(path + "/")
        view = callback.view_class
        if not hasattr(view, "required_scopes"):
            continue
        scope = required_scope(view, method.upper())
        assert op["x-required-scopes"] == ([scope] if scope else []), (method, path)
        if scope:
            assert f"`{scope}`" in op["description"]


def test_security_schemes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] | {"description": ""} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "",
    }
    assert schemes["SessionCookie"]["in"] == "cookie"
    upload = schema["paths"]["/api/v1/scans/upload"]["post"]
    assert {"ApiKeyAuth": []} in upload["security"] and {} not in upload["security"]
    assert upload["x-key-types"] == ["agent", "standard"]
    assert {p["name"] for p in upload["parameters"]} >= {"organizationId", "tenantId", "X-Workspace-ID"}


def test_operation_ids_are_unique_and_readable(schema):
    ids = [op["operationId"] for _, _, op in _operations(schema)]
    assert len(ids) == len(set(ids))
    assert {
        "scans_upload",
        "scans_upload_alias",
        "scans_list",
        "scans_retrieve",
        "organizations_list",
        "organizations_members_list",
    } <= set(ids)


@pytest.mark.django_db
def test_schema_and_docs_are_served_from_local_files(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert not re.search(r"""(src|href)=["']https?://""", html), "nothing from a CDN"
    assert "<style" not in html and not re.search(r"<script>\s*\S", html), "no inline style or script (CSP)"
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "'self'" in page["Content-Security-Policy"]
