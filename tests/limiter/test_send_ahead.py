"""A check sent ahead (``Limiter.send_ahead``): its round trip starts early and the identical
check in the same context takes its answer; anything else gives back what it counted.

On every backend the count is the same as without sending ahead: one request, one count.
Where checks are decided in the process nothing is sent at all.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.test import override_settings

from tater import redis_client
from tater.limiter import Entity, Limiter, RedisBackend, Rule, keys
from tests.apikeys.test_keycheck import RoundTrips
from tests.limiter.conftest import Harness
from tests.redis_servers import RedisDeployment, free_port


def test_the_identical_check_takes_the_answer_and_counts_once(harness: Harness, monkeypatch) -> None:
    entity = harness.entity([Rule(60, 5), Rule(3600, 100)])
    gen = keys.tagged(entity.key(), "gen")
    harness.store(gen, "g1")
    harness.limiter.peek(entity)  # connected, script loaded
    sends = RoundTrips(monkeypatch)  # what redis-py writes to any connection
    harness.limiter.send_ahead(entity, reads=[gen])
    decision = harness.limiter.check(entity, reads=[gen])
    assert sends.count == (1 if harness.limiter.sends_ahead else 0)  # the check sent nothing more
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
    mine = harness.limiter.check(entity)  # this context's own answer, if one was sent ahead
    harness.limiter.settle_ahead()
    if harness.limiter.sends_ahead:  # counted first, when it was sent: 4 left, the worker 3
        assert (mine.remaining, seen[0].remaining) == (4, 3)
    else:
        assert (mine.remaining, seen[0].remaining) == (3, 4)
    assert harness.limiter.peek(entity).remaining == 3  # two requests, two counts


def test_a_late_refund_gives_back_that_admission_and_no_other(harness: Harness) -> None:
    """Given back 20 s later, an admission must not free a later one's place: at +60.001 s
    the first would have left the window anyway, the later ones not (SPEC §6: in no 60 s
    more than the limit)."""
    if not harness.fake_time:
        pytest.skip("the cache backend runs on the cache's clock")
    entity = harness.entity([Rule(60, 5)])
    t0 = time.time()
    first = harness.limiter.check(entity, now=t0)
    assert all(harness.limiter.check(entity, now=t0 + 10).admitted for _ in range(4))
    harness.limiter.refund(entity, first.receipt)  # at t0 + 20 s
    assert harness.limiter.check(entity, now=t0 + 20).admitted  # the place given back
    assert not harness.limiter.check(entity, now=t0 + 60.001).admitted  # 5 within (t0 + 0.001, t0 + 60.001]


def test_a_refund_after_its_window_passed_frees_nothing_in_the_next(harness: Harness) -> None:
    if not harness.fake_time:
        pytest.skip("the cache backend runs on the cache's clock")
    entity = harness.entity([Rule(3600, 2)])
    end = (time.time() // 3600 + 1) * 3600
    late = harness.limiter.check(entity, now=end - 1)
    assert [harness.limiter.check(entity, now=end + 1).admitted for _ in range(3)] == [True, True, False]
    harness.limiter.refund(entity, late.receipt)  # its hour is over
    assert not harness.limiter.check(entity, now=end + 3).admitted


def test_settling_never_raises(make_harness, redis_standalone: RedisDeployment, caplog) -> None:
    """A call sent ahead that fails (here a read of a key of the wrong type) is logged when
    settled: the request it was sent for has its answer already."""
    harness = make_harness("redis")
    entity = harness.entity([Rule(60, 5)])
    wrong = keys.tagged(entity.key(), "gen")
    harness.client.hset(wrong, "field", "value")
    harness.written.append(wrong)
    harness.limiter.send_ahead(entity, reads=[wrong])
    harness.limiter.settle_ahead()
    assert "could not settle" in caplog.text
    assert harness.client.ping()
    assert harness.limiter.peek(entity).remaining == 5  # the failed call wrote nothing


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
