"""SPEC §3 (the error catalog; every API error in its format) and §12 (``/readyz`` and outages
answer 503 in the catalog format): the API reference's error catalog and the OpenAPI schema
are what an integrator codes against. They left out codes the API answers every day: 503
``SERVICE_UNAVAILABLE`` (a database or Redis outage, ``/readyz``), and the sign-in codes of
``auth/login``, ``auth/verify-2fa`` and ``auth/token`` (``INVALID_CREDENTIALS``,
``INVALID_OTP``, ``SSO_REQUIRED``, ``MFA_REQUIRED``). Now both list them, the sign-in codes
only on the sign-in endpoints (a key endpoint never answers them)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def _catalog_rows(client: Any, user: Any) -> list[str]:
    client.force_login(user)
    page = html.unescape(client.get("/docs/api/").content.decode())
    table = re.search(r'<table id="error-catalog">(.*?)</table>', page, re.S)
    assert table, page[:500]
    return table.group(1).split("<tr>")


def _row(rows: list[str], code: str) -> str:
    return next((row for row in rows if f">{code}<" in row or f"{code}</code>" in row), "")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SERVICE_UNAVAILABLE", 503),
        ("INVALID_CREDENTIALS", 401),
        ("INVALID_OTP", 401),
        ("SSO_REQUIRED", 403),
        ("MFA_REQUIRED", 403),
    ],
)
def test_the_api_reference_lists_the_code(client: Any, world: dict[str, Any], code: str, status: int) -> None:
    row = _row(_catalog_rows(client, world["member"]), code)
    assert row and str(status) in row, code


def test_the_reference_shows_the_message_the_api_answers(client: Any, world: dict[str, Any]) -> None:
    answer = client.post(
        "/api/v1/auth/login",
        {"email": world["member"].email, "password": "not-the-password"},
        content_type="application/json",
    )
    assert answer.status_code == 401, answer.content
    body = answer.json()
    assert body["error"] == "INVALID_CREDENTIALS"
    client.cookies.clear()
    row = _row(_catalog_rows(client, world["member"]), "INVALID_CREDENTIALS")
    assert body["message"] in row, row


def _examples(schema: dict[str, Any], path: str, method: str, status: int) -> set[str]:
    response = schema["paths"][path][method]["responses"].get(str(status))
    assert response, (path, method, status, sorted(schema["paths"][path][method]["responses"]))
    examples = response["content"]["application/json"].get("examples", {})
    return {example["value"]["error"] for example in examples.values()}


def test_the_schema_documents_sign_in_codes_on_sign_in_endpoints_only(client: Any) -> None:
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    assert {"INVALID_CREDENTIALS", "INVALID_OTP"} <= _examples(schema, "/api/v1/auth/login", "post", 401)
    assert "INVALID_OTP" in _examples(schema, "/api/v1/auth/verify-2fa", "post", 401)
    assert "SSO_REQUIRED" in _examples(schema, "/api/v1/auth/token", "post", 403)
    keys_401 = _examples(schema, "/api/v1/keys/", "get", 401)
    assert "UNAUTHORIZED" in keys_401 and not keys_401 & {"INVALID_CREDENTIALS", "INVALID_OTP"}
    assert "SSO_REQUIRED" not in _examples(schema, "/api/v1/keys/", "get", 403)


@pytest.mark.parametrize(
    ("path", "method"), [("/api/v1/keys/", "get"), ("/api/v1/keys/", "post"), ("/api/v1/auth/validate", "get")]
)
def test_the_schema_documents_the_outage_answer(client: Any, path: str, method: str) -> None:
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    assert _examples(schema, path, method, 503) == {"SERVICE_UNAVAILABLE"}
