"""One gunicorn of this app for a test, started as production starts it (``-c
python:tater.operations.gunicorn_conf tater.wsgi``) on a free loopback port, on its own SQLite
file, and stopped with what it started.

    with gunicorn(tmp_path, LOG_LEVEL="DEBUG") as server:
        assert server.get("/healthz") == 200
    server.stderr  # everything it wrote, once stopped

``server.up`` says whether ``/healthz`` answered before it exited or 30 s passed (a start
refused by a setting exits: ``up`` is False and ``stderr`` says why).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Never the suite's own services: each server has its own SQLite file and in-process cache.
DROPPED = ("DATABASE_URL", "REDIS_URL", "TATER_TESTING")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, stderr_path: Path) -> None:
        self.port = port
        self.stderr_path = stderr_path
        self.up = False

    def get(self, path: str, timeout: float = 5) -> int | None:
        """The status of ``GET path``, its body read; None when nothing answers."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        except OSError:
            return None

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()


@contextmanager
def gunicorn(tmp_path: Path, *, args: tuple[str, ...] = (), drop: tuple[str, ...] = (), **env: str) -> Iterator[Server]:
    """A one-worker gunicorn with ``env`` added to this process's environment (``drop``: names
    taken out besides the suite's services; ``args``: more gunicorn arguments)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in DROPPED + drop}
    environment.update(
        PYTHONPATH=str(ROOT),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    environment.update(env)
    server = Server(port, tmp_path / "stderr")
    with server.stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "-c", "python:tater.operations.gunicorn_conf", "-w", "1"]
            + ["-b", f"127.0.0.1:{port}", *args, "tater.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and proc.poll() is None:
                if server.get("/healthz", timeout=2) is not None:
                    server.up = True
                    break
                time.sleep(0.2)
            yield server
        finally:
            proc.terminate()
            proc.wait(timeout=30)
