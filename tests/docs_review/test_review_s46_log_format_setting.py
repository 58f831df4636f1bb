"""README "Configuration": a value left empty (``EMAIL_TIMEOUT=`` in a compose file) means its
default, and gunicorn's settings file reads the variables "as tater.settings reads them".
``TATER_LOG_FORMAT=`` (a compose file's ``${TATER_LOG_FORMAT}`` unset) stopped every start
with "TATER_LOG_FORMAT must be json or text", although ``LOG_LEVEL=`` and every other
variable start on their default; and ``TATER_LOG_FORMAT=JSON``, which the app reads as
``json``, left gunicorn's own lines ("Starting gunicorn", worker boots) as text in a JSON
log stream. Now both read it as one of ``json``/``text`` in any case, empty the default."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tater.starting import start

ROOT = Path(__file__).resolve().parents[2]


def test_empty_log_format_starts_on_the_default() -> None:
    done = start("settings.TATER_LOG_FORMAT", DJANGO_DEBUG="1", TATER_LOG_FORMAT="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "text"


def test_upper_case_log_format_is_accepted_by_the_app() -> None:
    done = start("settings.TATER_LOG_FORMAT", DJANGO_DEBUG="1", TATER_LOG_FORMAT="JSON")
    assert done.returncode == 0 and done.stdout.strip() == "json", done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthz(port: int) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    except OSError:
        return None


def _gunicorn(tmp_path: Path, log_format: str) -> tuple[int | None, str]:
    """(the /healthz status once it answers, or None if gunicorn exited; its stderr)."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TATER_TESTING")}
    environment.update(
        DJANGO_DEBUG="1",
        LOG_LEVEL="INFO",
        TATER_LOG_FORMAT=log_format,
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
    status = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            status = _healthz(port)
            if status is not None:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stderr.close()
    return status, (tmp_path / "stderr").read_text()


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
