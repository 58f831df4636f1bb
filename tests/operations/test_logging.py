"""Log lines (SPEC §12): JSON with timestamp, level, logger, message and the request id;
one access line per request with method, route, status, duration, client address and key
id; ``TATER_LOG_FORMAT`` chooses JSON (the default with DEBUG off) or text."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.operations.conftest import CapturedLogs

ROOT = Path(__file__).resolve().parents[2]
URLS = "tests.operations.urls"


def access_lines(captured: CapturedLogs) -> list[dict[str, Any]]:
    return [line for line in captured.json_lines() if line["logger"] == "tater.access"]


@override_settings(ROOT_URLCONF=URLS)
def test_json_lines_carry_the_request_id(captured_logs: CapturedLogs) -> None:
    response = Client().get("/ops-test/careless/plain/", HTTP_X_REQUEST_ID="req-operations-1")
    assert response.status_code == 200 and response["X-Request-ID"] == "req-operations-1"
    (line,) = [line for line in captured_logs.json_lines() if line["logger"] == "tater.test"]
    assert line["level"] == "WARNING" and line["request_id"] == "req-operations-1"
    assert line["message"].startswith("handling /ops-test/careless/<str:token>/")
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]
    (text,) = [t for t in captured_logs.text_lines() if " tater.test " in t]
    assert " WARNING tater.test [req-operations-1] handling " in text


def test_one_access_line_per_request(captured_logs: CapturedLogs, keyworld: dict[str, Any]) -> None:
    client = Client()
    responses = [
        client.get("/api/v1/auth/validate", HTTP_X_API_KEY=keyworld["raw"]),
        client.get(f"/api/v1/keys/{keyworld['key'].public_id}/", HTTP_X_API_KEY=keyworld["raw"]),
        client.get("/api/v1/keys/", HTTP_X_API_KEY="tater_" + "1" * 32),
        client.get("/healthz"),
        client.get("/no-such-page"),
    ]
    lines = access_lines(captured_logs)
    assert [line["request_id"] for line in lines] == [r["X-Request-ID"] for r in responses]
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/api/v1/auth/validate", 200),
        ("GET", "/api/v1/keys/<str:key_id>/", 200),
        ("GET", "/api/v1/keys/", 401),
        ("GET", "/healthz", 200),
        ("GET", "<unmatched>", 404),
    ]
    first = lines[0]
    assert first["key_id"] == keyworld["key"].public_id and first["user_id"] == keyworld["owner"].pk
    assert first["client_ip"] == "127.0.0.1" and first["duration_ms"] >= 0
    assert first["level"] == "INFO" and first["message"].startswith("GET /api/v1/auth/validate 200 ")
    assert lines[2]["key_id"] is None
    assert keyworld["raw"] not in captured_logs.everything()
    assert keyworld["key"].public_id not in "".join(line["route"] for line in lines)


def test_lines_outside_a_request_have_no_request_id(captured_logs: CapturedLogs) -> None:
    logging.getLogger("tater.test").warning("outside any request")
    (line,) = captured_logs.json_lines()
    assert "request_id" not in line and line["message"] == "outside any request"
    assert "[-] outside any request" in captured_logs.text_lines()[0]


def test_objects_in_records_are_dropped(captured_logs: CapturedLogs) -> None:
    """Django passes its request object with error lines: its repr holds the raw path."""
    logging.getLogger("tater.test").error("failed", extra={"request": object(), "status_code": 500})
    (line,) = captured_logs.json_lines()
    assert "request" not in line and line["status_code"] == 500


# --- Settings: TATER_LOG_FORMAT and TATER_ACCESS_LOG ------------------------------------------

SHOW = """
import django, json, logging, sys
django.setup()
from django.conf import settings
logging.getLogger("tater.test").warning("hello from setup")
print(json.dumps({"format": settings.TATER_LOG_FORMAT, "access": settings.LOGGING["loggers"]["tater.access"]["level"]}))
"""


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "TATER_LOG_FORMAT", "TATER_ACCESS_LOG")}
    base.update(DJANGO_SETTINGS_MODULE="tater.settings", PYTHONPATH=str(ROOT), **env)
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", SHOW], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_log_format_settings() -> None:
    production = {"DJANGO_DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "tater.example.com"}
    result = run_settings(**production)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"format": "json", "access": "INFO"}
    (line,) = [json.loads(raw) for raw in result.stderr.splitlines() if "hello from setup" in raw]
    assert {"timestamp", "level", "logger", "message"} <= set(line) and line["logger"] == "tater.test"

    text = run_settings(**production, TATER_LOG_FORMAT="text", TATER_ACCESS_LOG="0")
    assert json.loads(text.stdout) == {"format": "text", "access": "WARNING"}
    assert " WARNING tater.test [-] hello from setup" in text.stderr

    assert json.loads(run_settings(DJANGO_DEBUG="1").stdout)["format"] == "text"
    wrong = run_settings(TATER_LOG_FORMAT="xml")
    assert wrong.returncode != 0 and "TATER_LOG_FORMAT must be one of json, text" in wrong.stderr


@pytest.mark.parametrize(
    "setting",
    ["TATER_LOG_FORMAT", "TATER_ACCESS_LOG", "TATER_METRICS_ALLOWED_IPS", "TATER_METRICS_TOKEN", "TATER_READY_TIMEOUT"],
)
def test_settings_are_documented(setting: str) -> None:
    assert f"`{setting}`" in (ROOT / "README.md").read_text()
    assert f"`{setting}`" in (ROOT / "docs" / "operations.md").read_text()
