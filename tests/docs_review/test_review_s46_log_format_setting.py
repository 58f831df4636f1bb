"""README "Configuration": a value left empty (``EMAIL_TIMEOUT=`` in a compose file) means its
default, and gunicorn's settings file reads the variables "as tater.settings reads them".
``TATER_LOG_FORMAT=`` (a compose file's ``${TATER_LOG_FORMAT}`` unset) stopped every start
with "TATER_LOG_FORMAT must be json or text", although ``LOG_LEVEL=`` and every other
variable start on their default; and ``TATER_LOG_FORMAT=JSON``, which the app reads as
``json``, left gunicorn's own lines ("Starting gunicorn", worker boots) as text in a JSON
log stream. Now both read it as one of ``json``/``text`` in any case, empty the default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gunicorn_server import gunicorn
from tests.tater.starting import start


def test_empty_log_format_starts_on_the_default() -> None:
    done = start("settings.TATER_LOG_FORMAT", DJANGO_DEBUG="1", TATER_LOG_FORMAT="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "text"


def test_upper_case_log_format_is_accepted_by_the_app() -> None:
    done = start("settings.TATER_LOG_FORMAT", DJANGO_DEBUG="1", TATER_LOG_FORMAT="JSON")
    assert done.returncode == 0 and done.stdout.strip() == "json", done.stderr


def _gunicorn(tmp_path: Path, log_format: str) -> tuple[int | None, str]:
    """(the /healthz status, or None if gunicorn did not start; its stderr)."""
    with gunicorn(tmp_path, DJANGO_DEBUG="1", LOG_LEVEL="INFO", TATER_LOG_FORMAT=log_format) as server:
        status = server.get("/healthz") if server.up else None
    return status, server.stderr


def test_gunicorn_starts_with_an_empty_log_format(tmp_path: Path) -> None:
    status, stderr = _gunicorn(tmp_path, "")
    assert status == 200, stderr


@pytest.mark.parametrize("spelling", ["json", "JSON"])
def test_gunicorn_lines_follow_the_app_format_in_any_case(tmp_path: Path, spelling: str) -> None:
    status, stderr = _gunicorn(tmp_path, spelling)
    assert status == 200, stderr
    starting = [line for line in stderr.splitlines() if "Starting gunicorn" in line]
    assert starting, stderr
    assert json.loads(starting[0])["message"].startswith("Starting gunicorn"), starting[0]
