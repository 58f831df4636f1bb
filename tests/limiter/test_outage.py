"""The outage policy: TATER_RATELIMIT_FAIL_OPEN admits uncounted (warning once a minute) or raises."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import redis
from django.test import override_settings

from tater import redis_client
from tater.limiter import Entity, Limiter, LimiterUnavailable, RedisBackend, Rule, admitting_on_outage, keys
from tater.limiter import limiter as limiter_module
from tests.redis_servers import RedisDeployment, free_port


@pytest.fixture(autouse=True)
def _fresh_client() -> object:
    redis_client.reset_client()
    yield
    redis_client.reset_client()


def _dead_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def _entity() -> Entity:
    return Entity(f"test:{uuid.uuid4().hex}", [Rule(60, 1), Rule(3600, 100)])


def test_fail_open_admits_uncounted_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    entity = _entity()
    generation = keys.tagged(entity.key(), "gen")
    with override_settings(REDIS_URL=_dead_url(), TATER_RATELIMIT_FAIL_OPEN=True):
        limiter = Limiter(RedisBackend())
        with caplog.at_level(logging.WARNING, logger="tater.limiter"):
            decisions = [limiter.check(entity, reads=[generation]) for _ in range(3)]
            peeked = limiter.peek(entity)
            limiter.refund(entity, decisions[0].receipt)  # counted nothing: nothing to give back
    assert all(d.admitted and d.degraded for d in decisions + [peeked])
    assert decisions[0].reads == {generation: None}
    assert decisions[0].headers()["X-RateLimit-Limit"] == "1"  # the headers stay well-formed
    warnings = [r for r in caplog.records if r.name == "tater.limiter"]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()


def test_the_warning_repeats_after_its_interval(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limiter_module, "WARN_INTERVAL", 0.2)
    with override_settings(REDIS_URL=_dead_url()):
        limiter = Limiter(RedisBackend(), fail_open=True)
        with caplog.at_level(logging.WARNING, logger="tater.limiter"):
            limiter.check(_entity())
            limiter.check(_entity())
            time.sleep(0.25)
            limiter.check(_entity())
    assert len([r for r in caplog.records if r.name == "tater.limiter"]) == 2


def test_fail_closed_raises() -> None:
    with override_settings(REDIS_URL=_dead_url(), TATER_RATELIMIT_FAIL_OPEN=False):
        limiter = Limiter(RedisBackend())
        with pytest.raises(LimiterUnavailable):
            limiter.check(_entity())
        with pytest.raises(LimiterUnavailable):
            limiter.peek(_entity())
        with pytest.raises(LimiterUnavailable):
            limiter.reset(_entity())


def test_fail_closed_admits_uncounted_where_asked_to() -> None:
    """``admitting_on_outage``: the block's checks get through an outage (revoking a key)."""
    with override_settings(REDIS_URL=_dead_url(), TATER_RATELIMIT_FAIL_OPEN=False):
        limiter = Limiter(RedisBackend())
        with admitting_on_outage():
            decision = limiter.check(_entity())
            assert decision.admitted and decision.degraded and decision.receipt is None
        with admitting_on_outage(False), pytest.raises(LimiterUnavailable):
            limiter.check(_entity())
        with pytest.raises(LimiterUnavailable):  # only within the block
            limiter.check(_entity())


def test_an_unreachable_cluster_is_an_outage() -> None:
    with override_settings(REDIS_URL=_dead_url(), REDIS_CLUSTER=True):
        decision = Limiter(RedisBackend(), fail_open=True).check(_entity())
    assert decision.admitted and decision.degraded


def test_a_bug_is_not_an_outage(redis_standalone: RedisDeployment) -> None:
    """A reads key of the wrong type is a caller's bug: it raises, never admits silently."""
    entity = _entity()
    wrong = keys.tagged(entity.key(), "gen")
    with redis_standalone.client() as client:
        client.hset(wrong, "field", "value")
        try:
            with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
                Limiter(RedisBackend(client), fail_open=True).check(entity, reads=[wrong])
        finally:
            client.delete(wrong)


def test_the_limiter_recovers_with_the_store(redis_standalone: RedisDeployment) -> None:
    entity = _entity()
    with override_settings(REDIS_URL=_dead_url()):
        assert Limiter(RedisBackend(), fail_open=True).check(entity).degraded
    with override_settings(REDIS_URL=redis_standalone.url):
        limiter = Limiter(RedisBackend(), fail_open=True)
        first = limiter.check(entity)
        assert first.admitted and not first.degraded
        assert not limiter.check(entity).admitted
        limiter.reset(entity)
