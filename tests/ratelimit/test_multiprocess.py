"""Exactness on the real Redis: several gunicorn workers, many concurrent clients, one key.

The server runs against the PostgreSQL test database (a transactional test, so the key
is committed and visible to the workers) and the same Redis db and key prefix as this
test process.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
from django.db import connection

from apikeys.models import KeyUsageHourly
from tests.factories import make_key, make_tenant

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
CLIENTS = 60
LIMIT = 25

pytestmark = [pytest.mark.realservices, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def server(transactional_db: Any) -> Iterator[Any]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    assert dj_database_url.parse(url)["NAME"].startswith("test_")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "WEB_CONCURRENCY": str(WORKERS)}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tater.wsgi",
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "2",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if _get(port, "/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("gunicorn did not come up")
            time.sleep(0.1)
        # Let every worker finish booting so the burst is really spread over processes.
        threads = [threading.Thread(target=_get, args=(port, "/api/v1/health")) for _ in range(WORKERS * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            proc.wait(timeout=10)


def test_concurrent_clients_never_exceed_the_limit(server: Any) -> None:
    server, proc = server
    tenant, owner, (org,) = make_tenant(name="Burst", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit=f"{LIMIT}/min")
    # Stay inside one minute window (the server's clock is the real one).
    left = 60 - time.time() % 60
    if left < 6:
        time.sleep(left + 0.2)

    results: list[tuple[int, dict[str, str], bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client() -> None:
        start.wait()
        result = _get(server, "/api/v1/auth/validate", {"X-API-Key": raw})
        with lock:
            results.append(result)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    admitted = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] != 200]
    assert len(admitted) == LIMIT
    assert len(refused) == CLIENTS - LIMIT
    for status, headers, body in refused:
        assert status == 429
        assert json.loads(body)["error"] == "RATE_LIMITED"
        assert 1 <= int(headers["Retry-After"]) <= 60
        assert headers["X-RateLimit-Remaining"] == "0"
    # Every admitted request saw its own count: the increments were atomic.
    assert sorted(int(h["X-RateLimit-Remaining"]) for _, h, _ in admitted) == list(range(LIMIT))

    # Usage was counted in every worker; each adds its counts to the table when it stops.
    proc.send_signal(signal.SIGTERM)  # graceful
    proc.wait(timeout=20)
    rows = KeyUsageHourly.objects.filter(key=key)
    assert sum(r.requests for r in rows) == CLIENTS
    assert sum(r.errors for r in rows) == CLIENTS - LIMIT


def test_usage_limited_key_is_exact_across_workers(server: Any) -> None:
    """Issue 22: 20 concurrent clients on a key with 50 uses get exactly 50 admitted."""
    port, _ = server
    tenant, owner, (org,) = make_tenant(name="Metered", orgs=1, plan="enterprise")
    key, raw = make_key(user=owner, tenant=tenant, org=org, usage_limit=50)
    results: list[int] = []
    codes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def client() -> None:
        start.wait()
        for _ in range(4):
            status, _, body = _get(port, "/api/v1/auth/validate", {"X-API-Key": raw})
            with lock:
                results.append(status)
                if status != 200:
                    codes.append(json.loads(body)["error"])

    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 50
    assert codes == ["USAGE_EXHAUSTED"] * 30
