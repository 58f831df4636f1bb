"""Answers made before the view runs carry the headers every other answer carries.

The JSON paths refuse some requests before anything reads them (413, 411, 415, a malformed
Content-Length, NUL in the query) and replace error pages with catalog JSON. Those answers
used to leave without the security headers (``nosniff``, ``X-Frame-Options``, CSP,
``Referrer-Policy``, HSTS): a browser could sniff a refusal that repeats what the request
sent, and frame it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def _chunked(client: Client, **extra: Any) -> Any:
    return client.generic("POST", "/api/v1/keys/", data=b"", HTTP_TRANSFER_ENCODING="chunked", **extra)


def _utf7(client: Client, **extra: Any) -> Any:
    return client.post("/api/v1/keys/", data=b"{}", content_type="application/json; charset=utf-7", **extra)


def _too_large(client: Client, **extra: Any) -> Any:
    return client.generic("POST", "/api/v1/keys/", data=b"{}", CONTENT_LENGTH="999999999999", **extra)


def _bad_length(client: Client, **extra: Any) -> Any:
    return client.generic("POST", "/api/v1/keys/", data=b"{}", CONTENT_LENGTH="12abc", **extra)


def _nul_query(client: Client, **extra: Any) -> Any:
    return client.get("/api/v1/keys/?name=%00", **extra)


def _replaced_page(client: Client, **extra: Any) -> Any:
    return client.get("/auth/no-such-thing", **extra)


REFUSALS = {
    "411 chunked body": (_chunked, 411),
    "415 charset": (_utf7, 415),
    "413 body too large": (_too_large, 413),
    "400 Content-Length": (_bad_length, 400),
    "400 NUL in query": (_nul_query, 400),
    "404 page replaced by JSON": (_replaced_page, 404),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_carry_the_security_headers(client: Client, case: str) -> None:
    send, status = REFUSALS[case]
    response = send(client)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.get("X-Content-Type-Options") == "nosniff"
    assert response.get("X-Frame-Options") == "DENY"
    assert response.get("Referrer-Policy")
    assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", "")
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin"


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_over_https_carry_hsts(client: Client, case: str) -> None:
    send, status = REFUSALS[case]
    with override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True):
        response = send(client, secure=True)
    assert response.status_code == status
    assert response.get("Strict-Transport-Security", "").startswith("max-age=31536000")
