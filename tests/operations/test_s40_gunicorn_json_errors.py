"""SPEC §3: every answer under /api/ is the catalog's JSON, "whatever fails, never an HTML
page". gunicorn answers requests it cannot parse itself, before the app runs: a long
``Authorization`` or ``X-API-Key`` header (over 8,190 bytes) got its HTML "Request Header
Fields Too Large" page, which also echoed the header's start; an overlong URL its HTML 414.
Run against a real gunicorn started with ``tater.operations.gunicorn_conf`` (review s40 B)."""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator

import pytest

from tests.gunicorn_server import gunicorn

pytestmark = [pytest.mark.slow]


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("gunicorn-errors")
    settings = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
    with gunicorn(tmp, args=("--graceful-timeout", "2"), **settings) as server:
        assert server.up, server.stderr[-3000:]
        yield server.port


def _answer(raw: bytes) -> tuple[int, dict[str, str], dict[str, str]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, json.loads(body)


def test_an_oversized_key_header_is_a_json_431_that_echoes_nothing(port: int) -> None:
    pasted = "tater_" + "a1" * 5000
    status, headers, body = _answer(
        _raw(port, f"GET /api/v1/auth/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {pasted}\r\n\r\n".encode())
    )
    assert status == 431
    assert headers["content-type"] == "application/json"
    assert body["error"] == "VALIDATION_ERROR" and body["message"] and body["request_id"]
    assert "a1a1" not in json.dumps(body)


def test_an_overlong_url_is_a_json_414(port: int) -> None:
    status, headers, body = _answer(
        _raw(port, f"GET /api/v1/keys/?q={'x' * 9000} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    )
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert body["error"] == "VALIDATION_ERROR"


def test_bytes_that_are_no_http_are_a_json_400(port: int) -> None:
    status, headers, body = _answer(_raw(port, b"\x16\x03\x01 garbage\r\n\r\n"))
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert body["error"] == "VALIDATION_ERROR"


def test_the_app_still_answers(port: int) -> None:
    raw = _raw(port, b"GET /api/v1/auth/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status, headers, body = _answer(raw)
    assert status == 401 and body["error"] == "UNAUTHORIZED"
