"""Durability under faults: database and cache outages give a clear 503 in the catalog
format, lose no committed write, leave nothing half-written and recover without restart.

In process (no service needed): a connection error raised inside the API or inside the
session layer, and a Redis "outage" simulated by a cache on a closed port.
Real services (``realservices``): a gunicorn server talks to PostgreSQL and Redis through
TCP proxies that the test cuts and restores, plus ``pg_terminate_backend``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client, override_settings

from apikeys import services as key_services
from apikeys.authentication import ApiKeyAuthentication
from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key, make_tenant

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_503(response: Any) -> None:
    assert response.status_code == 503, response.content[:500]
    body = response.json()
    assert body["error"] == "SERVICE_UNAVAILABLE" and body["message"], body
    assert body.get("request_id") == response["X-Request-ID"]
    assert int(response["Retry-After"]) > 0
    assert "Traceback" not in response.content.decode()


# --- In process: the database -----------------------------------------------------------------


@pytest.mark.django_db
def test_database_error_in_an_api_view_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, owner, (org,) = make_tenant(orgs=1)
    _, raw = make_key(user=owner, tenant=tenant, org=org)

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("apikeys.selectors.apikey_list", lost)
    response = Client(raise_request_exception=False).get("/api/v1/keys/", HTTP_X_API_KEY=raw)
    assert_503(response)


@pytest.mark.django_db
def test_database_error_outside_drf_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session is loaded by middleware, before any view: a lost database there is a
    503 too (JSON under /api/, a plain page elsewhere), never a 500."""
    tenant, owner, (org,) = make_tenant(orgs=1)
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    def lost(self: Any) -> Any:
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", lost)
    assert_503(client.get("/api/v1/keys/"))
    page = client.get("/")
    assert page.status_code == 503
    assert page["Retry-After"] and b"Temporarily unavailable" in page.content and b"Traceback" not in page.content


# --- In process: Redis on a closed port ------------------------------------------------------


def redis_down(**extra: Any) -> Any:
    """Rate limits and key generations in a Redis that does not answer."""
    return override_settings(
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/7",
        REDIS_CLUSTER=False,
        TATER_RATELIMIT_BACKEND="redis",
        REDIS_SOCKET_TIMEOUT=0.5,
        **extra,
    )


@pytest.fixture
def key_world(db: Any) -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(orgs=1)
    api_key, raw = make_key(user=owner, tenant=tenant, org=org)
    return {"tenant": tenant, "owner": owner, "org": org, "key": api_key, "raw": raw}


def test_redis_down_keys_still_authenticate_against_the_database(key_world: dict[str, Any]) -> None:
    with redis_down():
        principal = ApiKeyAuthentication().verify(key_world["raw"], "192.0.2.1")
        assert principal.public_id == key_world["key"].public_id
        # A revoked key is refused from the database too (no stale memo to trust).
        ApiKey.objects.filter(pk=key_world["key"].pk).update(revoked_at=key_world["key"].created_at)
        with pytest.raises(Exception) as refused:
            ApiKeyAuthentication().verify(key_world["raw"], "192.0.2.1")
        assert getattr(refused.value, "code", None) == "KEY_REVOKED"


@pytest.mark.parametrize("fail_open", [True, False])
def test_redis_down_api_answers_per_the_rate_limit_policy(key_world: dict[str, Any], fail_open: bool) -> None:
    """Rate limits live in Redis. With TATER_RATELIMIT_FAIL_OPEN (the default) keys keep
    working on the database during an outage; without it the API fails closed: a clear
    503, never a 500."""
    with redis_down(TATER_RATELIMIT_FAIL_OPEN=fail_open):
        response = Client(raise_request_exception=False).get("/api/v1/auth/validate", HTTP_X_API_KEY=key_world["raw"])
    if fail_open:
        assert response.status_code == 200, response.content
        assert response.json()["id"] == key_world["key"].public_id
    else:
        assert_503(response)


@pytest.mark.parametrize("fail_open", [True, False])
def test_redis_down_revocation_commits_and_the_key_is_refused(key_world: dict[str, Any], fail_open: bool) -> None:
    """Issue 18: an outage never keeps a leaked key alive. The revocation commits (audited),
    and the key is refused at once: 401 KEY_REVOKED whatever the rate-limit policy."""
    api_key = key_world["key"]
    client = Client(raise_request_exception=False)
    assert client.get("/api/v1/auth/validate", HTTP_X_API_KEY=key_world["raw"]).status_code == 200
    with redis_down(TATER_RATELIMIT_FAIL_OPEN=fail_open):
        key_services.apikey_revoke(api_key=api_key, actor=key_world["owner"])
        api_key.refresh_from_db()
        assert api_key.revoked_at is not None
        assert AuditEvent.objects.filter(action="api_key.revoked").exists()
        response = client.get("/api/v1/auth/validate", HTTP_X_API_KEY=key_world["raw"])
        assert (response.status_code, response.json()["error"]) == (401, "KEY_REVOKED")


# --- Real services: a real server behind cuttable TCP proxies ----------------------------------


class TcpProxy:
    """A TCP forwarder the test can cut (drops live connections, refuses new ones) and restore."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = False
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def down(self) -> None:
        self.cut = True
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.conns.clear()

    def up(self) -> None:
        self.cut = False

    def close(self) -> None:
        self.stopped = True
        self.down()
        self.listener.close()


def http(
    method: str, url: str, key: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"X-API-Key": key, "Content-Type": "application/json"}
    )  # noqa: S310 - loopback test server
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {"raw": raw[:300].decode(errors="replace")}
        return exc.code, payload, dict(exc.headers)


@pytest.fixture
def live_server_behind_proxies(transactional_db: Any) -> Any:
    db = connection.settings_dict
    pg = TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    redis_url = os.environ["REDIS_URL"]
    redis_host, redis_port = "127.0.0.1", 6379
    if "://" in redis_url:
        hostport = redis_url.split("://", 1)[1].split("/", 1)[0].split("@")[-1]
        redis_host, _, port = hostport.partition(":")
        redis_port = int(port or 6379)
    rd = TcpProxy((redis_host, redis_port))
    port = closed_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{pg.port}/{db['NAME']}?application_name=tater_hard_fault",
        "REDIS_URL": f"redis://127.0.0.1:{rd.port}/7",
        "CACHE_KEY_PREFIX": "hard-fault",
        "DJANGO_DEBUG": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TATER_TESTING", None)
    server = subprocess.Popen(  # noqa: S603 - our own app under gunicorn
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "tater.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/v1/health", timeout=2)  # noqa: S310
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.3)
    else:
        server.kill()
    try:
        if server.poll() is not None:
            pytest.fail(
                "gunicorn did not start: "
                + (server.stdout.read().decode(errors="replace")[-3000:] if server.stdout else "")
            )
        yield {"base": base, "pg": pg, "redis": rd, "server": server}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        pg.close()
        rd.close()


@pytest.mark.realservices
@pytest.mark.slow
def test_postgres_and_redis_outages_on_a_real_server(live_server_behind_proxies: dict[str, Any]) -> None:
    live = live_server_behind_proxies
    base, pg, rd, server = live["base"], live["pg"], live["redis"], live["server"]
    tenant, owner, (org,) = make_tenant(name="Faulty", orgs=1, plan="enterprise")
    api_key, raw = make_key(user=owner, tenant=tenant, org=org)

    status, body, _ = http("GET", f"{base}/api/v1/auth/validate", raw)
    assert status == 200, body
    status, created, _ = http(
        "POST", f"{base}/api/v1/keys/", raw, {"name": "committed before the outage", "scopes": ["scans:read"]}
    )
    assert status == 201, created

    # 1. PostgreSQL unreachable: a clear 503 for reads and writes, nothing written.
    pg.down()
    audit_before = AuditEvent.objects.count()  # the test's own connection is not proxied
    for method, path, payload in (
        ("GET", "/api/v1/keys/", None),
        ("POST", "/api/v1/keys/", {"name": "during outage", "scopes": ["scans:read"]}),
    ):
        status, body, headers = http(method, base + path, raw, payload)
        assert status == 503, (method, path, status, body)
        assert body["error"] == "SERVICE_UNAVAILABLE" and body.get("request_id"), body
        assert headers.get("Retry-After")
    pg.up()

    # 2. Back without a restart; the committed write is there, the refused one is not.
    status, listing, _ = http("GET", f"{base}/api/v1/keys/?limit=200", raw)
    assert status == 200, listing
    names = {k["name"] for k in listing["keys"]}
    assert "committed before the outage" in names and "during outage" not in names
    assert not ApiKey.objects.filter(name="during outage").exists()
    assert AuditEvent.objects.count() == audit_before
    assert server.poll() is None

    # 3. The server's backend is killed between requests: the health check reconnects.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", ["tater_hard_fault"]
        )
        assert cursor.fetchall(), "the server had no connection to terminate"
    statuses = [http("GET", f"{base}/api/v1/keys/", raw)[0] for _ in range(3)]
    assert 500 not in statuses and statuses[-1] == 200, statuses

    # 4. Redis unreachable: fail closed (503) or open (200) per TATER_RATELIMIT_FAIL_OPEN, never 500.
    rd.down()
    status, body, _ = http("GET", f"{base}/api/v1/auth/validate", raw)
    expected = 200 if getattr(settings, "TATER_RATELIMIT_FAIL_OPEN", False) else 503
    assert status == expected, body
    if status == 503:
        assert body["error"] == "SERVICE_UNAVAILABLE"
    status, body, _ = http("POST", f"{base}/api/v1/keys/{api_key.public_id}/revoke/", raw, {})
    assert status in (200, 503) and status != 500, body
    if status == 503:
        api_key.refresh_from_db()
        assert api_key.revoked_at is None, "a failed revocation was half-written"
    rd.up()
    status, body, _ = http("GET", f"{base}/api/v1/auth/validate", raw)
    api_key.refresh_from_db()
    assert status == (401 if api_key.revoked_at else 200), body
    assert server.poll() is None
