"""An incoming ``X-Request-ID`` is kept only when it is a plain id (SPEC §12: every log
line carries the request id). One ending in a line feed passed the check, and then broke
the request: a 500 instead of its answer (the id could not be echoed in the
response header) and a text log line split in two. gunicorn refuses such a header itself;
a WSGI server or proxy that passes it on must not reach either."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.operations.conftest import CapturedLogs


@pytest.mark.parametrize("incoming", ["abcdefgh\n", "abcdefgh\r", "abcdefgh\r\n"])
def test_request_id_with_a_line_break_is_replaced(incoming: str, captured_logs: CapturedLogs) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/health", HTTP_X_REQUEST_ID=incoming)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    request_id = response["X-Request-ID"]
    assert request_id and request_id != incoming.strip()
    access = [line for line in captured_logs.text_lines() if "tater.access" in line]
    assert len(access) == 1 and f"[{request_id}]" in access[0]


def test_plain_request_id_is_kept() -> None:
    assert Client().get("/api/v1/health", HTTP_X_REQUEST_ID="abcdefgh-1234")["X-Request-ID"] == "abcdefgh-1234"
