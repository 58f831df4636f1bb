"""A check sent ahead (``Limiter.send_ahead``): its round trip starts early and the identical
check in the same context takes its answer; anything else gives back what it counted.

On every backend the count is the same as without sending ahead: one request, one count.
Where checks are decided in the process nothing is sent at all.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.test import override_settings

from tater import redis_client
from tater.limiter import Entity, Limiter, RedisBackend, Rule, keys
from tests.limiter.conftest import Harness
from tests.redis_servers import RedisDeployment, free_port


def test_the_identical_check_takes_the_answer_and_counts_once(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 5), Rule(3600, 100)])
    gen = keys.tagged(entity.key(), "gen")
    harness.store(gen, "g1")
    harness.limiter.send_ahead(entity, reads=[gen])
    decision = harness.limiter.check(entity, reads=[gen])
    assert decision.admitted and decision.remaining == 4
    assert decision.reads[gen] in (b"g1", "g1")
    harness.limiter.settle_ahead()  # nothing is left to give back
    assert harness.limiter.peek(entity).remaining == 4


def test_an_unclaimed_check_is_given_back(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 5), Rule(3600, 100)])
    harness.limiter.check(entity)
    harness.limiter.send_ahead(entity)
    harness.limiter.settle_ahead()
    minute, hour = harness.limiter.peek(entity).states
    assert (minute.used, hour.used) == (1, 1)


def test_another_check_settles_it_before_counting(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 2)])
    harness.limiter.send_ahead(entity)
    other = harness.entity([Rule(60, 5)])
    assert harness.limiter.check(other).remaining == 4
    assert harness.limiter.peek(entity).remaining == 2  # what was sent ahead was given back
    assert harness.limiter.check(entity).remaining == 1  # and is not answered twice


def test_a_check_reading_other_keys_is_not_the_same_check(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 5)])
    gen = keys.tagged(entity.key(), "gen")
    harness.limiter.send_ahead(entity, reads=[gen])
    assert harness.limiter.check(entity).remaining == 4  # one count, not two
    harness.limiter.settle_ahead()
    assert harness.limiter.peek(entity).remaining == 4


def test_a_refusal_sent_ahead_is_the_answer_and_consumes_nothing(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 1)])
    assert harness.limiter.check(entity).admitted
    harness.limiter.send_ahead(entity)
    refused = harness.limiter.check(entity)
    assert not refused.admitted and 0 < refused.retry_after <= 60
    harness.limiter.settle_ahead()
    assert harness.limiter.peek(entity).states[0].used == 1


def test_threads_do_not_take_each_others_checks(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 5)])
    harness.limiter.send_ahead(entity)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(harness.limiter.check(entity)))
    worker.start()
    worker.join()
    assert seen[0].admitted
    assert harness.limiter.check(entity).admitted  # this context's own answer
    harness.limiter.settle_ahead()
    assert harness.limiter.peek(entity).remaining == 3  # two requests, two counts


@pytest.mark.parametrize("kind", ["inprocess", "cache"])
def test_in_process_decisions_send_nothing(make_harness, kind: str) -> None:
    harness = make_harness(kind)
    entity = harness.entity([Rule(60, 5)])
    assert not harness.limiter.sends_ahead
    harness.limiter.send_ahead(entity)
    assert harness.limiter.peek(entity).remaining == 5  # nothing was counted ahead
    harness.limiter.settle_ahead()
    assert harness.limiter.peek(entity).remaining == 5


@pytest.mark.parametrize("kind", ["redis", "redis-cluster"])
def test_the_connection_goes_back_to_its_pool(request: pytest.FixtureRequest, kind: str) -> None:
    """A pool of one connection: a connection kept by a check sent ahead would refuse the next call."""
    deployment: RedisDeployment = request.getfixturevalue({"redis": "redis_standalone"}.get(kind, "redis_cluster"))
    client = deployment.client(max_connections=1)
    limiter = Limiter(RedisBackend(client), fail_open=False)
    entity = Entity(f"test:{uuid.uuid4().hex}", [Rule(60, 10)])
    try:
        limiter.send_ahead(entity)
        limiter.settle_ahead()
        limiter.send_ahead(entity)
        assert limiter.check(entity).remaining == 9
        assert client.ping()
        assert limiter.peek(entity).remaining == 9
    finally:
        limiter.reset(entity)
        client.close()


def test_a_script_the_server_forgot_is_loaded_and_counted_once(redis_standalone: RedisDeployment) -> None:
    client = redis_standalone.client()
    limiter = Limiter(RedisBackend(client), fail_open=False)
    entity = Entity(f"test:{uuid.uuid4().hex}", [Rule(60, 5)])
    try:
        assert limiter.check(entity).remaining == 4
        client.script_flush()  # e.g. a restarted or failed-over server
        limiter.send_ahead(entity)
        assert limiter.check(entity).remaining == 3
    finally:
        limiter.reset(entity)
        client.close()


def test_an_unreachable_store_applies_the_outage_policy_at_the_check() -> None:
    redis_client.reset_client()
    try:
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
            limiter = Limiter(RedisBackend(), fail_open=True)
            entity = Entity(f"test:{uuid.uuid4().hex}", [Rule(60, 5)])
            limiter.send_ahead(entity)  # nothing to send to: no error here
            decision = limiter.check(entity)
            assert decision.admitted and decision.degraded
            limiter.settle_ahead()
    finally:
        redis_client.reset_client()
