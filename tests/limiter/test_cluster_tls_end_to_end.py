"""The API-key path end to end on a real Redis Cluster and a real TLS redis-server.

For each deployment — (a) a 3-master Redis Cluster on loopback ports (``REDIS_URL`` naming
one node, ``REDIS_CLUSTER=True``), (b) a TLS-only standalone server (``rediss://``) whose
certificate a throw-away CA made by the test issued (``REDIS_TLS_CA_FILE``) — the app is
switched to it (rate limiter, key generations and the Django cache all on that one client)
and driven through the HTTP stack in process:

1. exact limits: 20 concurrent requests of a ``5/min`` key: exactly 5 admitted;
2. immediate revocation: through the service layer, and behind this process's back (the row
   changed without signals, then a new generation written the way another process's
   invalidation would), refused on the very next request;
3. lockout: the attempt that reaches the threshold is refused with ``LOCKED_OUT``, and a
   valid key from the locked address still works (tater/lockout.py).

The servers come from tests/redis_servers.py (registered by tests/limiter/conftest.py):
started once per session, skipped when ``redis-server`` is not installed.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client, override_settings
from django.utils import timezone

from apikeys import keycheck
from apikeys.models import ApiKey
from apikeys.services import apikey_revoke
from tater import limiter, redis_client
from tater.cache import glob_escape
from tests.factories import make_key, make_tenant
from tests.redis_servers import RedisDeployment
from tests.state import reset_shared_state

VALIDATE = "/api/v1/auth/validate"
DEPLOYMENTS = ["cluster", "tls"]
FIXTURES = {"cluster": "redis_cluster", "tls": "redis_tls"}
ATTACKER = "198.51.100.23"
THREADS = 20
LIMIT = 5


@dataclass
class App:
    kind: str
    deployment: RedisDeployment
    raw: Any  # a separate redis-py client, to look at the server behind the app's back
    cache_prefix: str
    rl_prefix: str


@pytest.fixture(scope="module", params=DEPLOYMENTS)
def deployment(request: pytest.FixtureRequest) -> RedisDeployment:
    """The servers of one deployment (each started once: the session fixtures)."""
    server: RedisDeployment = request.getfixturevalue(FIXTURES[request.param])
    assert server.cluster == (request.param == "cluster")
    assert server.url.startswith("rediss://") == (request.param == "tls")
    return server


@pytest.fixture
def app(deployment: RedisDeployment) -> Iterator[App]:
    """The app switched to ``deployment``: limiter, generations and cache on its server."""
    tag = uuid.uuid4().hex[:12]
    cache_prefix, rl_prefix = f"e2e-{tag}", f"e2e-{tag}:rl"
    # The shape tater/settings.py gives CACHES with REDIS_URL set.
    caches_setting = {
        "default": {"BACKEND": "tater.cache.RedisCache", "KEY_PREFIX": cache_prefix, "OPTIONS": {"fail_soft": True}}
    }
    raw = deployment.client()
    redis_client.reset_client()
    with override_settings(
        REDIS_URL=deployment.url,
        REDIS_CLUSTER=deployment.cluster,
        REDIS_TLS_CA_FILE=deployment.ca_file,
        REDIS_SOCKET_TIMEOUT=2.0,  # loaded CI machines: no flaky timeouts
        REDIS_SOCKET_CONNECT_TIMEOUT=2.0,
        TATER_RATELIMIT_BACKEND="redis",
        TATER_RATELIMIT_FAIL_OPEN=False,  # an unreachable server must fail the test, not pass it
        TATER_RATELIMIT_KEY_PREFIX=rl_prefix,
        CACHES=caches_setting,
    ):
        reset_shared_state()  # under these settings: clears this deployment's limiter and cache
        keycheck.reset()
        shared = redis_client.get_client()
        assert type(shared).__name__ == ("RedisCluster" if deployment.cluster else "Redis")
        assert isinstance(limiter.get_limiter().backend, limiter.RedisBackend)
        try:
            yield App("cluster" if deployment.cluster else "tls", deployment, raw, cache_prefix, rl_prefix)
        finally:
            reset_shared_state()
            keycheck.reset()
            for pattern in (f"{glob_escape(cache_prefix)}:*", f"{glob_escape(rl_prefix)}:*"):
                for name in list(raw.scan_iter(match=pattern)):
                    raw.delete(name)
            raw.close()
    redis_client.reset_client()
    keycheck.reset()


def _validate(client: Client, raw_key: str, ip: str = "127.0.0.1") -> Any:
    return client.get(VALIDATE, HTTP_X_API_KEY=raw_key, REMOTE_ADDR=ip)


def _error(response: Any) -> str:
    return str(response.json().get("error"))


def _unknown_key() -> str:
    return "tater_" + secrets.token_hex(16)


def _stored(app: App, name: str) -> Any:
    return app.raw.get(name)


# --- 1. Exact limits ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the threads' connections must see the key's row
def test_concurrent_requests_admit_exactly_the_limit(app: App) -> None:
    tenant, owner, (org,) = make_tenant(name=f"Exact {app.kind}")
    key, raw_key = make_key(user=owner, tenant=tenant, org=org, rate_limit=f"{LIMIT}/min")
    # One request first writes the key's last use (once per key and address per minute), so
    # the burst makes no database write: SQLite's in-memory test database (shared cache)
    # answers a write concurrent with readers "database table is locked" at once, without
    # waiting. Then everything the limiter keeps is cleared: a fresh window, no generation,
    # no shared principal, an empty memo — the 20 requests start cold.
    assert _validate(Client(), raw_key).status_code == 200
    limiter.get_limiter().backend.clear()
    keycheck.reset()
    assert _stored(app, keycheck.gen_name(key.digest)) is None
    start = threading.Barrier(THREADS)
    lock = threading.Lock()
    results: list[tuple[int, str, str | None]] = []
    errors: list[BaseException] = []

    def work() -> None:
        client = Client()
        try:
            start.wait(timeout=30)
            r = _validate(client, raw_key)
            error = "" if r.status_code == 200 else _error(r)
            with lock:
                results.append((r.status_code, error, r.headers.get("Retry-After")))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert len(results) == THREADS
    admitted = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] != 200]
    assert len(admitted) == LIMIT, sorted(results)
    assert len(refused) == THREADS - LIMIT, sorted(results)
    for status, error, retry_after in refused:
        assert (status, error) == (429, "RATE_LIMITED")
        assert retry_after is not None and int(retry_after) >= 1
    # Counted on this deployment's server, beside the key's generation (one hash slot).
    assert _stored(app, keycheck.gen_name(key.digest)) is not None
    # And still exact afterwards: the window is full.
    r = _validate(Client(), raw_key)
    assert (r.status_code, _error(r)) == (429, "RATE_LIMITED")


# --- 2. Immediate revocation -------------------------------------------------------------


def _warm(raw_key: str) -> Client:
    client = Client()
    for _ in range(3):
        r = _validate(client, raw_key)
        assert r.status_code == 200, r.content
        assert r.json()["valid"] is True
    return client


def test_revocation_through_the_service_is_immediate(app: App, db: Any) -> None:
    tenant, owner, (org,) = make_tenant(name=f"Revoke {app.kind}")
    key, raw_key = make_key(user=owner, tenant=tenant, org=org, rate_limit=f"{LIMIT}/min")
    client = _warm(raw_key)
    before = _stored(app, keycheck.gen_name(key.digest))
    assert before is not None  # the generation lives on this deployment's server
    apikey_revoke(api_key=key, actor=owner)
    assert _stored(app, keycheck.gen_name(key.digest)) != before  # the invalidation reached it
    r = _validate(client, raw_key)
    assert r.status_code == 401, r.content
    assert _error(r) == "KEY_REVOKED"
    r = _validate(Client(), raw_key)  # and stays refused
    assert (r.status_code, _error(r)) == (401, "KEY_REVOKED")


def test_revocation_behind_this_process_is_seen_through_the_generation(app: App, db: Any) -> None:
    tenant, owner, (org,) = make_tenant(name=f"Elsewhere {app.kind}")
    key, raw_key = make_key(user=owner, tenant=tenant, org=org, rate_limit=f"{LIMIT}/min")
    client = _warm(raw_key)
    # The row changes without signals: this process is not told.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now() - timedelta(seconds=1))
    # Until the generation changes, the memo's principal stands (it is confirmed current
    # by the generation read in the request's round trip) ...
    r = _validate(client, raw_key)
    assert r.status_code == 200, r.content
    # ... then another process's invalidation writes a new generation on the server.
    name = keycheck.gen_name(key.digest)
    limiter.get_limiter().write({name: "elsewhere"}, ttl=60)
    assert _stored(app, name) == b"elsewhere"
    r = _validate(client, raw_key)
    assert r.status_code == 401, r.content
    assert _error(r) == "KEY_REVOKED"


# --- 3. Lockout ----------------------------------------------------------------------------


def test_lockout_refuses_the_threshold_attempt_but_never_a_valid_key(app: App, db: Any) -> None:
    tenant, owner, (org,) = make_tenant(name=f"Lockout {app.kind}")
    _, raw_key = make_key(user=owner, tenant=tenant, org=org, rate_limit=f"{LIMIT}/min")
    client = Client()
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
        statuses = []
        for _ in range(3):
            r = _validate(client, _unknown_key(), ATTACKER)
            statuses.append((r.status_code, _error(r)))
        # "The attempt that reaches a threshold is refused": the 3rd failure locks.
        assert statuses == [(401, "UNAUTHORIZED"), (401, "UNAUTHORIZED"), (429, "LOCKED_OUT")], statuses
        assert r.headers.get("Retry-After") == str(settings.TATER_LOCKOUT_CLIENT_DURATION)
        # The lock is kept beside the address's failure counts, on this deployment's server.
        assert app.raw.exists(f"{app.rl_prefix}:{{lockout:client:{ATTACKER}}}:locked") == 1
        # "A valid key is never locked out": the key holder behind that address keeps working.
        r = _validate(client, raw_key, ATTACKER)
        assert r.status_code == 200, r.content
        assert r.json()["valid"] is True
        # ... while guessing from there stays locked, and other addresses are untouched.
        r = _validate(client, _unknown_key(), ATTACKER)
        assert (r.status_code, _error(r)) == (429, "LOCKED_OUT")
        r = _validate(client, _unknown_key(), "203.0.113.9")
        assert r.status_code == 401
