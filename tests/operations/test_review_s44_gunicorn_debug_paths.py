"""Session 44 review: under gunicorn with ``LOG_LEVEL=DEBUG`` no request path reaches the log.

SPEC §12: "no secret ever appears in them". gunicorn_conf keeps gunicorn's access log off
because it writes raw paths (tokens in invitation, reset and confirmation links), but
gunicorn's default ``pre_request`` hook writes every request's raw path at DEBUG on
``gunicorn.error``, before the app runs: no request to redact it by, so only the pattern
redaction stood between the log and the token, and a ``secrets.token_urlsafe(32)`` that
happens to hold no digit (about one in 1,500 invitation links) passed it as it was.
[was failing; fixed]
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None


def _serve(tmp_path: Path, paths: list[str]) -> tuple[list[int | None], str]:
    """gunicorn at DEBUG with JSON lines: the statuses of ``paths``, and its stderr."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TATER_TESTING")}
    environment.update(
        LOG_LEVEL="DEBUG",
        TATER_LOG_FORMAT="json",
        PYTHONPATH=str(ROOT),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    stderr = (tmp_path / "stderr").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "-c", "python:tater.operations.gunicorn_conf", "-w", "1"]
        + ["-b", f"127.0.0.1:{port}", "tater.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    statuses: list[int | None] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and _get(port, "/healthz") is None:
            time.sleep(0.2)
        statuses = [_get(port, path) for path in paths]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stderr.close()
    return statuses, (tmp_path / "stderr").read_text()


def test_no_raw_path_reaches_the_log_at_debug(tmp_path: Path) -> None:
    # A token_urlsafe(32) with no digit in it (letters, "-" and "_": as likely as any other).
    token = "".join(secrets.choice(string.ascii_letters + "-_") for _ in range(43))
    paths = [f"/invitations/{token}/", f"/no/such/page/{token}/"]
    statuses, stderr = _serve(tmp_path, paths)
    assert all(status is not None for status in statuses), stderr[-3000:]
    assert token not in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert not any(path in line["message"] for line in lines for path in paths)
    # The app's access lines still name each request, by its route.
    routes = [line["route"] for line in lines if line["logger"] == "tater.access"]
    assert "/invitations/<str:token>/" in routes and "<unmatched>" in routes
    assert any(line["logger"] == "gunicorn.error" and line["level"] == "DEBUG" for line in lines)
