"""The operator's view of a real deployment: gunicorn with two workers over PostgreSQL and
Redis, started with ``tater.operations.gunicorn_conf`` and production settings.

``/metrics`` adds up every worker's values (Prometheus multiprocess mode), whichever worker
answers the scrape, and keeps the counts of a worker that exited; ``/readyz`` is 200, and
503 naming Redis on a server whose Redis is unreachable; every stderr line is JSON, with
one access line per request carrying its request id.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import make_key, make_tenant

ROOT = Path(__file__).resolve().parents[2]
VALIDATE = "/api/v1/auth/validate"

pytestmark = [pytest.mark.realservices, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class Server:
    def __init__(self, tmp: Path, name: str, workers: int, **env: str) -> None:
        self.port = free_port()
        self.metrics_dir = tmp / f"{name}-metrics"
        self.stderr_path = tmp / f"{name}.stderr"
        db = connection.settings_dict
        environment = {k: v for k, v in os.environ.items() if k not in ("TATER_LOG_FORMAT", "TATER_TESTING")}
        environment.update(
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            DJANGO_DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            PROMETHEUS_MULTIPROC_DIR=str(self.metrics_dir),
            PYTHONPATH=str(ROOT),
            **env,
        )
        self.stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:tater.operations.gunicorn_conf",
                "tater.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "2",
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )

    def wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"gunicorn exited: {self.stderr_path.read_text()[-3000:]}")
            try:
                if call(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail("gunicorn did not come up")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, headers, body = call(self.port, "/metrics")
        assert status == 200, body[:300]
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
        }

    def worker_files(self) -> list[Path]:
        return sorted(self.metrics_dir.glob("counter_*.db"))


@pytest.fixture
def servers(transactional_db: Any, tmp_path: Path) -> Iterator[dict[str, Server]]:
    assert connection.settings_dict["NAME"].startswith("test_")
    started = {
        "main": Server(tmp_path, "main", 2, TATER_LOCKOUT_CLIENT_FAILURES="3"),
        "no_redis": Server(tmp_path, "no-redis", 1, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
    }
    try:
        for server in started.values():
            server.wait_up()
        yield started
    finally:
        for server in started.values():
            server.stop()


def requests_total(samples: dict[Any, float], route: str, status_class: str) -> float:
    key = (
        "tater_http_requests_total",
        frozenset({"route": route, "method": "GET", "status_class": status_class}.items()),
    )
    return samples.get(key, 0.0)


def sample(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_readiness_and_logs_under_gunicorn(servers: dict[str, Server]) -> None:
    main = servers["main"]
    tenant, owner, (org,) = make_tenant(name="Gunicorn", orgs=1, plan="enterprise")
    _, raw = make_key(user=owner, tenant=tenant, org=org, name="busy")
    _, slow_raw = make_key(user=owner, tenant=tenant, org=org, name="slow", rate_limit="2/min")

    # 24 key requests from 8 concurrent clients: both (sync) workers must serve some.
    ids = [f"gunicorn-test-{i:04d}-{secrets.token_hex(4)}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda rid: call(main.port, VALIDATE, {"X-API-Key": raw, "X-Request-ID": rid})[0], ids)
        )
    assert statuses == [200] * 24
    # Refusals: rate limit, then failed keys until the (lowered) lockout.
    assert [call(main.port, VALIDATE, {"X-API-Key": slow_raw})[0] for _ in range(3)] == [200, 200, 429]
    refused = [
        json.loads(call(main.port, "/api/v1/keys/", {"X-API-Key": f"tater_{i:032x}"})[2])["error"] for i in range(3)
    ]
    assert refused == ["UNAUTHORIZED", "UNAUTHORIZED", "LOCKED_OUT"]

    # Every scrape, whichever worker answers it, sees the sum over the workers.
    for _ in range(4):
        samples = main.scrape()
        assert requests_total(samples, VALIDATE, "2xx") == 26
        assert requests_total(samples, VALIDATE, "4xx") == 1
        assert sample(samples, "tater_key_auth_total", outcome="ok") == 27
        assert sample(samples, "tater_key_auth_total", outcome="UNAUTHORIZED") == 2
        assert sample(samples, "tater_key_auth_total", outcome="LOCKED_OUT") == 1
        assert sample(samples, "tater_rate_limit_refusals_total", code="RATE_LIMITED", route=VALIDATE) == 1
        assert sample(samples, "tater_rate_limit_refusals_total", code="LOCKED_OUT", route="/api/v1/keys/") == 1
        assert (
            sample(
                samples, "tater_http_request_duration_seconds_count", route=VALIDATE, method="GET", status_class="2xx"
            )
            == 26
        )
    served = []
    for path in main.worker_files():
        merged = MultiProcessCollector.merge([str(path)], accumulate=False)
        served.append(
            sum(
                s.value
                for m in merged
                if m.name == "tater_http_requests"
                for s in m.samples
                if s.labels.get("route") == VALIDATE
            )
        )
    assert len([n for n in served if n]) == 2, served

    # A worker that exits keeps its counts in the total.
    pid = int(main.worker_files()[0].stem.split("_")[1])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while len(main.worker_files()) < 3 and time.monotonic() < deadline:
        call(main.port, "/healthz")
        time.sleep(0.2)
    assert requests_total(main.scrape(), VALIDATE, "2xx") == 26

    # Readiness: both dependencies answer here; Redis is down for the other server.
    status, _, body = call(main.port, "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "checks": {"database": "ok", "redis": "ok"}})
    no_redis = servers["no_redis"]
    status, headers, body = call(no_redis.port, "/readyz")
    assert status == 503
    error = json.loads(body)
    assert error["error"] == "SERVICE_UNAVAILABLE" and error["details"] == {"database": "ok", "redis": "down"}
    assert error["request_id"] == headers["X-Request-ID"] and headers["Retry-After"]
    assert call(no_redis.port, "/healthz")[0] == 200

    # Logs: every stderr line is a JSON object; each request has its access line.
    time.sleep(0.5)
    text = main.stderr_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines and all({"timestamp", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    access = {line["request_id"]: line for line in lines if line["logger"] == "tater.access"}
    for rid in ids:
        line = access[rid]
        assert (line["method"], line["route"], line["status"]) == ("GET", VALIDATE, 200)
        assert line["key_id"] and line["client_ip"] == "127.0.0.1" and line["duration_ms"] >= 0
    assert raw not in text and slow_raw not in text and "tater_" + "0" * 32 not in text
    no_redis_lines = [json.loads(line) for line in no_redis.stderr_path.read_text().splitlines() if line.strip()]
    assert any(line["logger"] == "tater.operations" and "redis" in line["message"] for line in no_redis_lines)
