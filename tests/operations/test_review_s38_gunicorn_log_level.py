"""Session 38 review: gunicorn started with ``tater.operations.gunicorn_conf`` reads
``LOG_LEVEL`` as the app does.

README: ``LOG_LEVEL`` takes the level names in any case (today's change read ``warning`` as
``WARNING`` in tater.settings). gunicorn_conf passed the raw value to its own logger, so
``LOG_LEVEL=warning`` still kept gunicorn from starting ("Error: Unable to configure logger
'gunicorn.error'", exit 1), and ``LOG_LEVEL=LOUD`` stopped it without naming the variable.
Both read the variable the same way now. [was failing; fixed]
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


def _start(tmp_path: Path, level: str) -> tuple[int | None, str]:
    """(the /healthz status once it answers, or None if gunicorn exited; its stderr)."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TATER_TESTING")}
    environment.update(
        LOG_LEVEL=level,
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


@pytest.mark.parametrize("level", ["warning", "Info"])
def test_a_level_in_any_case_starts(tmp_path: Path, level: str) -> None:
    status, stderr = _start(tmp_path, level)
    assert status == 200, stderr


def test_an_unknown_level_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    status, stderr = _start(tmp_path, "LOUD")
    assert status is None
    assert "LOG_LEVEL must be one of" in stderr, stderr
