"""The limiter's short circuit breaker (tater.limiter.limiter.Breaker): a store that hangs is asked
once per TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS, not on every call. Found by review: with
Redis stopped (SIGSTOP: a stalled primary, a black-holed network) every request waited out
the socket timeout three or four times: a revocation 4.6 s, a leaked key's 401 4.0 s, a
valid key's 200 3.0 s, on every request.

Wall-clock bounds are generous (a noisy 2-vCPU machine): "at once" is under 0.25 s where a
timeout is 0.3 s, and each one asked again waits it out at least once more (twice with
REDIS_RETRIES=1)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import override_settings

from apikeys.models import ApiKey
from tater import redis_client
from tater.limiter import Entity, InProcessBackend, Limiter, LimiterUnavailable, RedisBackend, Rule, keys
from tater.limiter import limiter as limiter_module
from tater.limiter.core import Decision
from tests.factories import make_key
from tests.redis_servers import free_port

REDIS_SERVER = shutil.which("redis-server")
TIMEOUT = 0.3  # REDIS_SOCKET_TIMEOUT in these tests
AT_ONCE = 0.25  # under one timeout: the store was not asked

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"


class OwnRedis:
    """A private redis-server on a free loopback port, which a test can hang (SIGSTOP) and resume."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        argv = [str(REDIS_SERVER), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(directory),
                "--save", "", "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 15
        while True:
            try:
                self.client().ping()
                return
            except redis.RedisError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def hang(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        pytest.skip("the redis-server binary is not installed")
    server = OwnRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    try:
        outcome: Any = call()
    except LimiterUnavailable as exc:
        outcome = exc
    return outcome, time.monotonic() - started


def redis_limiter(server: OwnRedis, *, backoff: float, fail_open: bool = True) -> Limiter:
    client = redis_client.build_client(
        server.url, cluster=False, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
    )
    return Limiter(RedisBackend(client), fail_open=fail_open, outage_backoff=backoff)


def entity() -> Entity:
    return Entity(f"test:{uuid.uuid4().hex}", [Rule(60, 100), Rule(3600, 1000)])


# --- On a real Redis that hangs ---------------------------------------------------------


def test_a_hung_store_is_asked_once_per_backoff(own_redis: OwnRedis) -> None:
    lim = redis_limiter(own_redis, backoff=1.5)
    e = entity()
    gen = keys.tagged(e.key(), "gen")
    assert not lim.check(e).degraded
    own_redis.hang()
    try:
        first, waited = timed(lambda: lim.check(e, reads=[gen]))
        assert first.degraded and waited >= TIMEOUT  # this one asked, and waited
        calls: list[Callable[[], Any]] = [
            lambda: lim.check(e, reads=[gen]),
            lambda: lim.peek(e),
            lambda: lim.refund(e, None),
            lambda: lim.read([gen]),
            lambda: lim.reset(e),
        ]
        for call in calls:
            outcome, took = timed(call)
            assert took < AT_ONCE, f"{outcome!r} took {took:.2f}s"
            if isinstance(outcome, Decision):
                assert outcome.admitted and outcome.degraded  # fail-open, as without the breaker
            else:
                assert outcome is None or isinstance(outcome, LimiterUnavailable)
        # Key changes (writes, deletes) always try: at most one timeout each.
        written, waited = timed(lambda: lim.write({gen: "1"}, ttl=60))
        assert isinstance(written, LimiterUnavailable) and waited >= TIMEOUT
        lim.send_ahead(e)  # sends nothing meanwhile
        (decision, took) = timed(lambda: lim.check(e))
        assert decision.degraded and took < AT_ONCE
        lim.settle_ahead()

        time.sleep(1.6)  # the backoff is over, the store still hangs: one call asks again
        probe, waited = timed(lambda: lim.check(e))
        assert probe.degraded and waited >= TIMEOUT
        again, took = timed(lambda: lim.check(e))
        assert again.degraded and took < AT_ONCE
    finally:
        own_redis.resume()
    time.sleep(1.6)  # the backoff is over and the store answers: it is used again
    left = lim.peek(e).remaining  # (calls that timed out ran when the server resumed)
    counted = lim.check(e)
    assert counted.admitted and not counted.degraded
    assert lim.peek(e).remaining == left - 1


def test_a_check_sent_ahead_that_times_out_is_not_asked_again(own_redis: OwnRedis) -> None:
    """Breaker off (backoff 0): asking again after a timeout would wait (1 + REDIS_RETRIES) timeouts more."""
    lim = redis_limiter(own_redis, backoff=0)
    e = entity()
    assert not lim.check(e).degraded
    # Hung first: a server stopped just after the send may already have answered it (a
    # flaky order on a busy machine); its reply must be what never comes.
    own_redis.hang()
    try:
        lim.send_ahead(e)
        decision, waited = timed(lambda: lim.check(e))
    finally:
        own_redis.resume()
    assert decision.degraded
    assert waited < 2 * TIMEOUT, f"{waited:.2f}s: the call sent ahead was asked again"
    assert not lim.check(e).degraded  # its connection was not reused


def test_failing_closed_raises_at_once_and_revocations_still_get_through(own_redis: OwnRedis) -> None:
    lim = redis_limiter(own_redis, backoff=5, fail_open=False)
    e = entity()
    own_redis.hang()
    try:
        first, waited = timed(lambda: lim.check(e))
        assert isinstance(first, LimiterUnavailable) and waited >= TIMEOUT
        refused, took = timed(lambda: lim.check(e))
        assert isinstance(refused, LimiterUnavailable) and took < AT_ONCE
        with limiter_module.admitting_on_outage():
            admitted, took = timed(lambda: lim.check(e))
        assert admitted.admitted and admitted.degraded and took < AT_ONCE
    finally:
        own_redis.resume()


def test_a_key_change_reaches_a_store_that_answers_again_within_the_backoff(own_redis: OwnRedis) -> None:
    """Found by review: a revocation made by a process whose breaker was open (one call timed
    out a moment before; the store answered again) was not written, so other nodes, whose
    memos the store's old generation confirmed, admitted the revoked key for the backoff."""
    lim = redis_limiter(own_redis, backoff=5)
    e = entity()
    gen = keys.tagged(e.key(), "gen")
    own_redis.hang()
    try:
        assert lim.check(e).degraded  # one call timed out: the breaker opens
    finally:
        own_redis.resume()
    assert lim.check(e).degraded  # within the backoff the store is not asked
    assert lim.write({gen: "2"}, ttl=60) == {gen: True}  # a key change is
    assert lim.read([gen]) == {gen: b"2"}  # and its answer closed the breaker
    assert not lim.check(e).degraded


def test_a_cluster_has_no_breaker_one_hung_shard_must_not_shut_out_the_others() -> None:
    """Found by review: one breaker for the whole limiter refused keys on healthy shards."""
    with override_settings(REDIS_CLUSTER=True):
        assert not RedisBackend().fails_as_one
    backend = Failing()
    backend.failing, backend.wait = True, 0.1
    lim = Limiter(ShardedFailing(backend), fail_open=True, outage_backoff=5)
    assert lim.check(entity()).degraded
    backend.failing = False
    assert not lim.check(entity()).degraded  # asked again at once


# --- The breaker itself, on a store that fails as told --------------------------------------


class Failing(InProcessBackend):
    """In-process counts; ``check`` fails when told to, after ``wait`` seconds, and counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False
        self.wait = 0.0
        self.calls = 0

    def check(self, *args: Any, **kwargs: Any) -> Decision:
        self.calls += 1
        if self.failing:
            time.sleep(self.wait)
            raise LimiterUnavailable("TimeoutError: told to" if self.wait else "ConnectionError: told to")
        return super().check(*args, **kwargs)


class ShardedFailing(InProcessBackend):
    """``Failing``'s store as independent nodes (``fails_as_one`` False)."""

    def __init__(self, inner: Failing) -> None:
        super().__init__()
        self.inner = inner

    @property
    def fails_as_one(self) -> bool:
        return False

    def check(self, *args: Any, **kwargs: Any) -> Decision:
        return self.inner.check(*args, **kwargs)


def test_a_store_that_refuses_at_once_is_asked_again_at_once() -> None:
    """Only a failure that waited opens the breaker: a refused connection costs nothing to ask
    again, and the store is used as soon as it answers."""
    backend = Failing()
    lim = Limiter(backend, fail_open=True, outage_backoff=5)
    backend.failing = True
    assert lim.check(entity()).degraded
    backend.failing = False
    assert not lim.check(entity()).degraded


def test_after_the_backoff_one_call_asks_while_the_others_answer_at_once() -> None:
    backend = Failing()
    backend.failing, backend.wait = True, 0.1
    lim = Limiter(backend, fail_open=True, outage_backoff=0.3)
    assert lim.check(entity()).degraded and backend.calls == 1
    time.sleep(0.35)
    backend.wait = 0.5
    decisions: list[Decision] = []
    threads = [threading.Thread(target=lambda: decisions.append(lim.check(entity()))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(decisions) == 8 and all(d.degraded for d in decisions)
    assert backend.calls == 2  # one asked; seven were refused while it waited
    backend.failing = False
    time.sleep(0.35)
    assert not lim.check(entity()).degraded and backend.calls == 3


def test_reset_limiter_asks_the_store_again(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = Failing()
    backend.failing, backend.wait = True, 0.1
    monkeypatch.setattr(limiter_module, "backend_from_settings", lambda: backend)
    limiter_module.reset_limiter()
    try:
        with override_settings(TATER_RATELIMIT_FAIL_OPEN=True, TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS=60):
            assert limiter_module.check(entity()).degraded
            backend.failing = False
            assert limiter_module.check(entity()).degraded  # not asked for a minute
            limiter_module.reset_limiter()
            assert not limiter_module.check(entity()).degraded
    finally:
        limiter_module.reset_limiter()


def test_a_forked_worker_asks_the_store_itself() -> None:
    backend = Failing()
    backend.failing, backend.wait = True, 0.1
    lim = Limiter(backend, fail_open=True, outage_backoff=60)
    assert lim.check(entity()).degraded
    backend.failing = False
    assert lim.check(entity()).degraded  # the parent does not ask for a minute
    pid = os.fork()
    if pid == 0:  # the child: exit 0 when it asked the store and was counted
        os._exit(0 if not lim.check(entity()).degraded else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# --- Through the HTTP stack, PostgreSQL + Redis -------------------------------------------


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
def test_requests_and_a_revocation_during_a_hung_redis(api: Any, world: dict[str, Any], own_redis: OwnRedis) -> None:
    leaked, leaked_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="leaked")
    admin = {"HTTP_X_API_KEY": world["owner_raw"]}
    backoff = 2.0
    with override_settings(
        REDIS_URL=own_redis.url,
        REDIS_SOCKET_TIMEOUT=TIMEOUT,
        REDIS_SOCKET_CONNECT_TIMEOUT=TIMEOUT,
        REDIS_RETRIES=1,
        TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS=backoff,
    ):
        assert api.get(VALIDATE, HTTP_X_API_KEY=leaked_raw).status_code == 200
        assert api.get(VALIDATE, **admin).status_code == 200
        own_redis.hang()
        try:
            first, waited = timed(lambda: api.get(VALIDATE, **admin))
            assert first.status_code == 200 and waited < 8 * TIMEOUT, f"{waited:.2f}s"
            for _ in range(5):
                ok, took = timed(lambda: api.get(VALIDATE, **admin))
                assert ok.status_code == 200 and took < AT_ONCE, f"a valid key's request took {took:.2f}s"
            revoked, took = timed(lambda: api.post(f"{KEYS}{leaked.public_id}/revoke/", **admin))
            assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
            assert took < 8 * TIMEOUT, (
                f"the revocation took {took:.2f}s"
            )  # as the first request: a few timeouts, never a hang
            assert ApiKey.objects.get(pk=leaked.pk).revoked_at is not None  # committed
            refused = api.get(VALIDATE, HTTP_X_API_KEY=leaked_raw)
            assert refused.status_code == 401 and refused.json()["error"] == "KEY_REVOKED"
        finally:
            own_redis.resume()
        time.sleep(backoff + 0.5)
        before = api.get(VALIDATE, **admin)
        after = api.get(VALIDATE, **admin)
        assert before.status_code == after.status_code == 200
        assert int(after["X-RateLimit-Remaining"]) == int(before["X-RateLimit-Remaining"]) - 1  # counted again
        logs = [name for name in own_redis.client().scan_iter(match="*:_log") if own_redis.client().zcard(name)]
        assert logs, "nothing was counted in Redis after it came back"
        assert api.get(VALIDATE, HTTP_X_API_KEY=leaked_raw).status_code == 401
