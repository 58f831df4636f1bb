"""Session 40 review B: the OpenAPI schema left out the 413 and 415 that body-taking
operations really answer (SPEC §3, §5 "OpenAPI 3 schema at /api/schema/").

SPEC §3: a body too large is a 413 "on every endpoint"; a body that is not JSON is a 415
``UNSUPPORTED_MEDIA_TYPE``. ``POST keys/``, ``PATCH keys/{id}/``, ``POST auth/login``, the
member and organization writes ... answer both, in the catalog format, but /api/schema/
documented them on the scans upload alone: a client generated from the schema (or an
integrator reading /api/docs/) had no 413 or 415 for key creation, whose answers then fall
outside every documented response. The secret-scanning hook reads its raw body (GitHub's
signature covers the bytes, whatever the Content-Type): it documents 413, never 415.
[was failing; fixed]
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorOutput"
RAW_BODY_OPERATIONS = {("post", "/api/v1/secret-scanning/github/")}


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def documented(schema: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any] | None:
    response = schema["paths"][path][method]["responses"].get(str(status))
    if response is not None:
        assert response["content"]["application/json"]["schema"]["$ref"] == ERROR_REF, (method, path, status)
    return response


def test_every_operation_taking_a_body_documents_413_and_415(schema):
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            if documented(schema, method, path, 413) is None:
                missing.append((method, path, 413))
            parses_json = "application/json" in (operation.get("requestBody") or {}).get("content", {})
            if (
                parses_json
                and (method, path) not in RAW_BODY_OPERATIONS
                and documented(schema, method, path, 415) is None
            ):
                missing.append((method, path, 415))
    assert not missing, missing


def test_the_raw_body_hook_does_not_claim_a_415(schema):
    assert documented(schema, "post", "/api/v1/secret-scanning/github/", 415) is None
    assert documented(schema, "post", "/api/v1/secret-scanning/github/", 413) is not None


def error_fields(schema: dict[str, Any], response: Any) -> dict[str, Any]:
    """The answer has what ErrorOutput documents: its required fields, no others."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    error_output = schema["components"]["schemas"]["ErrorOutput"]
    assert set(error_output["required"]) <= set(body) <= set(error_output["properties"]), body
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/keys/"), ("patch", "/api/v1/keys/{key_id}/"), ("post", "/api/v1/auth/login")],
)
@override_settings(TATER_MAX_UPLOAD_BYTES=64)
def test_what_is_documented_is_what_is_answered(api, world, schema, method, path):
    concrete = path.replace("{key_id}", world["owner_key"].public_id)
    credentials = {"HTTP_X_API_KEY": world["owner_raw"]}
    send = getattr(api, method)

    too_large = send(concrete, b'{"name": "' + b"x" * 100 + b'"}', content_type="application/json", **credentials)
    assert too_large.status_code == 413 and documented(schema, method, path, 413) is not None
    assert error_fields(schema, too_large)["error"] == "PAYLOAD_TOO_LARGE"

    not_json = send(concrete, b"name=x", content_type="application/x-www-form-urlencoded", **credentials)
    assert not_json.status_code == 415 and documented(schema, method, path, 415) is not None
    assert error_fields(schema, not_json)["error"] == "UNSUPPORTED_MEDIA_TYPE"
