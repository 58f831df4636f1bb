"""SPEC §3: every answer under /api/ is the catalog's JSON, "whatever fails, never an HTML
page". gunicorn answers requests it cannot parse itself, before the app runs: a long
``Authorization`` or ``X-API-Key`` header (over 8,190 bytes) got its HTML "Request Header
Fields Too Large" page, which also echoed the header's start; an overlong URL its HTML 414.
Run against a real gunicorn started with ``tater.operations.gunicorn_conf`` (review s40 B)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TATER_TESTING")}
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"),
        PYTHONPATH=str(ROOT),
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:tater.operations.gunicorn_conf", "tater.wsgi"]
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*argv, "-w", "1", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "stderr").open("wb"),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp / "stderr").read_text()[-3000:]
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


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
