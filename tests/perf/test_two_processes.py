"""No stale window across processes (issue 9), on the real PostgreSQL + Redis.

Two separate servers (one gunicorn worker each, so we know which process answers) share
the test database and Redis. Both memoize a key; a change made through one server (or
by this test process, a third) is seen by the other on its very next request.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apikeys import services as key_services
from orgs import services as org_services
from tests.factories import make_key, make_tenant

ROOT = Path(__file__).resolve().parents[2]
N = 10  # with the checks below, under the 20 failures that lock 127.0.0.1 out

pytestmark = [pytest.mark.realservices, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(port: int, method: str, path: str, key: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(
            method,
            path,
            body=b"{}" if method == "POST" else None,
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, dict(resp.getheaders()), json.loads(raw) if raw else {}
    finally:
        conn.close()


def _start(port: int) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tater.wsgi",
            "-w",
            "1",
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


@pytest.fixture
def two_servers(transactional_db: Any) -> Iterator[tuple[int, int]]:
    assert connection.settings_dict["NAME"].startswith("test_")
    ports = (_free_port(), _free_port())
    procs = [_start(p) for p in ports]
    try:
        deadline = time.monotonic() + 30
        for port, proc in zip(ports, procs, strict=True):
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/api/v1/health")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gunicorn did not come up")
                time.sleep(0.1)
        yield ports
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            proc.wait(timeout=10)


def statuses(port: int, key: str, n: int = N) -> list[tuple[int, str]]:
    out = []
    for _ in range(n):
        status, _, body = call(port, "GET", "/api/v1/auth/validate", key)
        out.append((status, body.get("error", "")))
    return out


def test_changes_through_one_process_are_seen_by_the_other(two_servers: tuple[int, int]) -> None:
    a, b = two_servers
    tenant, owner, (org,) = make_tenant(name="Two", orgs=1, plan="enterprise")
    _, admin_raw = make_key(user=owner, tenant=tenant, org=org, name="admin")
    victim, victim_raw = make_key(user=owner, tenant=tenant, org=org, name="victim")
    sleeper, sleeper_raw = make_key(user=owner, tenant=tenant, org=org, name="sleeper")
    for port in (a, b):  # both processes memoize both keys
        assert statuses(port, victim_raw, 3) == [(200, "")] * 3
        assert statuses(port, sleeper_raw, 3) == [(200, "")] * 3

    # Revocation through A: B refuses the very next request, and every one after it.
    assert call(a, "POST", f"/api/v1/keys/{victim.public_id}/revoke/", admin_raw)[0] == 200
    assert statuses(b, victim_raw) == [(401, "KEY_REVOKED")] * N
    assert statuses(a, victim_raw, 2) == [(401, "KEY_REVOKED")] * 2

    # Deactivation through A; reactivation (a signed-in owner's action, never a key's: SPEC
    # §2a) by a third process, this one: both servers see each change on the next request.
    assert call(a, "POST", f"/api/v1/keys/{sleeper.public_id}/deactivate/", admin_raw)[0] == 200
    assert statuses(b, sleeper_raw, 3) == [(401, "KEY_INACTIVE")] * 3
    assert call(b, "POST", f"/api/v1/keys/{sleeper.public_id}/activate/", admin_raw)[0] == 403
    key_services.apikey_set_active(api_key=sleeper, actor=owner, active=True)
    assert statuses(a, sleeper_raw, 3) == [(200, "")] * 3
    assert statuses(b, sleeper_raw, 3) == [(200, "")] * 3

    # A plan change made by a third process (this one): both servers apply the new limits.
    minute = str(settings.TATER_PLAN_RATE_LIMITS["pro"][0])
    org_services.tenant_update(tenant=tenant, actor=owner, plan="pro")
    for port in (a, b):
        status, headers, _ = call(port, "GET", "/api/v1/auth/validate", sleeper_raw)
        assert (status, headers["X-RateLimit-Limit"]) == (200, minute)
