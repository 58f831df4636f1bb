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

import json
import secrets
import string
from pathlib import Path

from tests.gunicorn_server import gunicorn


def _serve(tmp_path: Path, paths: list[str]) -> tuple[list[int | None], str]:
    """gunicorn at DEBUG with JSON lines: the statuses of ``paths``, and its stderr."""
    with gunicorn(tmp_path, LOG_LEVEL="DEBUG", TATER_LOG_FORMAT="json") as server:
        statuses = [server.get(path) for path in paths]
    return statuses, server.stderr


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
