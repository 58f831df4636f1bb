"""Window semantics to the microsecond, on a hand-moved clock (``now=``).

SPEC §6: "in no 60-second interval are more requests admitted than the per-minute limit";
hour windows may be fixed. Run on every backend that takes ``now`` (the cache backend runs
on its cache's clock and is covered with real time in test_contract).
"""

from __future__ import annotations

import pytest

from tater.limiter import Limiter, Rule, keys
from tests.limiter.conftest import Harness

FAKE_TIME = ["inprocess", "redis", "redis-cluster"]
T0 = 1_900_002_000.0  # a minute start (2030-03-17 18:20:00 UTC)
H0 = 1_900_000_800.0  # the start of that hour


@pytest.fixture(params=FAKE_TIME)
def timed(request: pytest.FixtureRequest, make_harness: object) -> Harness:
    return make_harness(request.param)  # type: ignore[operator]


def test_a_minute_rule_rolls(timed: Harness) -> None:
    entity = timed.entity([Rule(60, 3)])
    check = timed.limiter.check
    assert [check(entity, now=T0 + s).admitted for s in (0, 20, 40)] == [True, True, True]
    refused = check(entity, now=T0 + 59.999)
    assert not refused.admitted
    assert refused.retry_after == pytest.approx(0.001, abs=1e-6)  # until the admission at T0 leaves
    assert refused.reset == pytest.approx(T0 + 100)  # the whole quota: when the newest leaves
    # At T0 + 60 the admission made at T0 is exactly 60 s old: out of (now - 60, now].
    assert check(entity, now=T0 + 60).admitted
    # A fixed window would have admitted 3 more at the minute boundary; a rolling one does not.
    assert not check(entity, now=T0 + 60.5).admitted
    assert check(entity, now=T0 + 80).admitted


def test_burst_at_a_boundary_cannot_double_the_limit(timed: Harness) -> None:
    """Fixed windows admit 2×limit around a boundary (end of one, start of the next)."""
    entity = timed.entity([Rule(60, 5)])
    admitted = [t for t in (59.0, 59.2, 59.4, 59.6, 59.8, 60.0, 60.2, 60.4, 60.6, 60.8)
                if timed.limiter.check(entity, now=T0 + t).admitted]  # fmt: skip
    assert admitted == [59.0, 59.2, 59.4, 59.6, 59.8]


def test_retry_after_names_the_admission_that_must_leave(timed: Harness) -> None:
    entity = timed.entity([Rule(10, 3)])
    for s in (0, 1, 2):
        timed.limiter.check(entity, now=T0 + s)
    # Cost 2 needs two of the three admissions gone: the second leaves at T0 + 11.
    refused = timed.limiter.check(entity, cost=2, now=T0 + 5)
    assert not refused.admitted and refused.retry_after == pytest.approx(6)
    assert timed.limiter.check(entity, cost=2, now=T0 + 11).admitted


def test_shorter_rolling_rules_share_the_log(timed: Harness) -> None:
    entity = timed.entity([Rule(1, 2), Rule(10, 3)])
    check = timed.limiter.check
    assert check(entity, now=T0).admitted and check(entity, now=T0 + 0.1).admitted
    second = check(entity, now=T0 + 0.2)
    assert not second.admitted and second.limit == 2  # the 1-second rule binds
    assert check(entity, now=T0 + 1.05).admitted
    third = check(entity, now=T0 + 2.5)
    assert not third.admitted and third.limit == 3  # now the 10-second rule binds
    assert third.retry_after == pytest.approx(7.5)


def test_hour_rules_use_fixed_windows(timed: Harness) -> None:
    entity = timed.entity([Rule(3600, 2)])
    check = timed.limiter.check
    assert check(entity, now=H0 + 3000).admitted and check(entity, now=H0 + 3500).admitted
    refused = check(entity, now=H0 + 3599)
    assert refused.reset == H0 + 3600 and refused.retry_after == pytest.approx(1)
    # The next hour starts afresh, even though both admissions are minutes old.
    assert check(entity, now=H0 + 3600).admitted and check(entity, now=H0 + 3601).admitted


def test_rolling_max_seconds_decides_which_rules_roll(timed: Harness) -> None:
    backend = timed.limiter.backend
    backend.rolling_max_seconds = 3600
    try:
        entity = timed.entity([Rule(3600, 2)])
        rolling = Limiter(backend, fail_open=False)
        assert rolling.check(entity, now=H0 + 3000).admitted and rolling.check(entity, now=H0 + 3500).admitted
        assert not rolling.check(entity, now=H0 + 3600).admitted  # rolling: still two in the last hour
        assert rolling.check(entity, now=H0 + 6600).admitted
    finally:
        backend.rolling_max_seconds = 60


def test_memory_stays_within_the_limit(timed: Harness) -> None:
    entity = timed.entity([Rule(2, 5), Rule(3600, 10_000)])
    for i in range(200):
        timed.limiter.check(entity, now=T0 + i * 0.05)
    if timed.client is not None:
        assert timed.client.zcard(keys.internal(entity.key(), "log")) <= 5
        assert 0 < timed.client.pttl(keys.internal(entity.key(), "log")) <= 2000
    else:
        assert timed.limiter.check(entity, now=T0 + 10).states[0].used <= 5


def test_the_cache_backend_takes_no_hand_moved_clock(make_harness: object) -> None:
    harness: Harness = make_harness("cache")  # type: ignore[operator]
    with pytest.raises(ValueError, match="clock"):
        harness.limiter.check(harness.entity([Rule(60, 1)]), now=T0)
