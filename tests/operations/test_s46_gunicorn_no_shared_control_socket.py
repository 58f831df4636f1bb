"""SPEC §12 (several app nodes, possibly on one host) and the tests' three nodes: gunicorn 25+
opens a control socket at one path per user (``$XDG_RUNTIME_DIR/gunicorn.ctl`` or
``~/.gunicorn/gunicorn.ctl``), the same for every instance. A second instance took the first
one's socket and, when it stopped, removed it; ``gunicornc`` could resize the embedded
default, whose in-process cache and rate limits must stay in one process. Tater's gunicorn
configuration opens none."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def test_gunicorn_opens_no_control_socket(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "TATER_TESTING", "XDG_RUNTIME_DIR")
    }
    environment.update(
        HOME=str(home),
        PYTHONPATH=str(ROOT),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "-c", "python:tater.operations.gunicorn_conf", "-w", "1"]
        + ["-b", f"127.0.0.1:{port}", "tater.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None and not _answers(port):
            time.sleep(0.2)
        assert _answers(port), "gunicorn did not start"
        time.sleep(0.5)  # the arbiter opens its control socket once the workers run
        assert not list(home.rglob("*.ctl")), "gunicorn opened a control socket at the shared default path"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
