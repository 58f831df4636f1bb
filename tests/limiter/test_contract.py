"""The contract every backend keeps (in-process, cache, Redis standalone, Cluster, TLS).

Expectations come from SPEC §6 and the limiter's documented interface: admitted up to the
limit, refused beyond it, a refusal consumes nothing in any rule, rolling minute windows,
the X-RateLimit-* headers.
"""

from __future__ import annotations

import math
import time
import uuid

import pytest

from tater.limiter import Entity, Rule, keys
from tests.limiter.conftest import Harness


def test_admits_up_to_the_limit_then_refuses(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 3)])
    remaining = [harness.limiter.check(entity).remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    refused = harness.limiter.check(entity)
    assert not refused.admitted
    assert refused.limit == 3 and refused.remaining == 0
    assert 0 < refused.retry_after <= 60


def test_headers_of_the_binding_rule(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 5), Rule(3600, 2)])
    first = harness.limiter.check(entity)
    headers = first.headers()
    assert headers["X-RateLimit-Limit"] == "2"  # the hour rule has fewer left
    assert headers["X-RateLimit-Remaining"] == "1"
    hour_end = (first.now // 3600 + 1) * 3600
    assert headers["X-RateLimit-Reset"] == str(math.ceil(hour_end))
    assert "Retry-After" not in headers
    harness.limiter.check(entity)
    refused = harness.limiter.check(entity).headers()
    assert refused["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused["Retry-After"]) <= 3600


def test_refusal_consumes_nothing_in_any_rule(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 10), Rule(3600, 2)])
    assert all(harness.limiter.check(entity).admitted for _ in range(2))
    for _ in range(5):
        assert not harness.limiter.check(entity).admitted
    minute, hour = harness.limiter.peek(entity).states
    assert (minute.used, hour.used) == (2, 2)


def test_cost_is_all_or_nothing(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 5)])
    assert harness.limiter.check(entity, cost=3).remaining == 2
    refused = harness.limiter.check(entity, cost=3)
    assert not refused.admitted and refused.remaining == 2
    assert harness.limiter.check(entity, cost=2).remaining == 0


def test_a_cost_above_the_limit_is_never_admitted(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 2)])
    refused = harness.limiter.check(entity, cost=3)
    assert not refused.admitted and refused.retry_after == 60
    assert harness.limiter.peek(entity).states[0].used == 0


def test_peek_consumes_nothing(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 2)])
    for _ in range(3):
        assert harness.limiter.peek(entity).admitted
    harness.limiter.check(entity)
    peeked = harness.limiter.peek(entity)
    assert peeked.admitted and peeked.remaining == 1
    harness.limiter.check(entity)
    assert not harness.limiter.peek(entity).admitted


def test_refund_gives_requests_back(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 2), Rule(3600, 2)])
    harness.limiter.check(entity)
    second = harness.limiter.check(entity)
    harness.limiter.refund(entity, second.receipt)
    assert [s.used for s in harness.limiter.peek(entity).states] == [1, 1]
    assert harness.limiter.check(entity).admitted


def test_a_receipt_gives_back_once_and_its_own_cost(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 10), Rule(3600, 10)])
    harness.limiter.check(entity)
    pair = harness.limiter.check(entity, cost=2)
    harness.limiter.check(entity)
    harness.limiter.refund(entity, pair.receipt)
    harness.limiter.refund(entity, pair.receipt)  # spent: nothing more
    assert [s.used for s in harness.limiter.peek(entity).states] == [2, 2]


def test_nothing_counted_nothing_given_back(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 1), Rule(3600, 5)])
    assert harness.limiter.check(entity).admitted
    refused = harness.limiter.check(entity)
    assert not refused.admitted and refused.receipt is None
    harness.limiter.refund(entity, refused.receipt)
    harness.limiter.refund(entity, harness.limiter.peek(entity).receipt)
    assert [s.used for s in harness.limiter.peek(entity).states] == [1, 1]


def test_a_refund_takes_back_only_what_its_rules_counted(harness: Harness) -> None:
    """A key's rules changed between its check and the refund (a new override): the
    refund must not take a count from a window the admission never counted in."""
    key = f"test:{uuid.uuid4().hex}"
    before = harness.entity([Rule(60, 10)], name=key.split(":", 1)[1])
    after = Entity(key, [Rule(60, 10), Rule(7200, 2)])
    harness.entities.append(after)
    counted = harness.limiter.check(before)
    assert [harness.limiter.check(after).admitted for _ in range(3)] == [True, True, False]
    harness.limiter.refund(after, counted.receipt)
    assert not harness.limiter.check(after).admitted  # the 7200 s rule still holds its 2


def test_reset_forgets_the_entity(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 1), Rule(3600, 1)])
    harness.limiter.check(entity)
    assert not harness.limiter.check(entity).admitted
    harness.limiter.reset(entity)
    assert harness.limiter.check(entity).admitted


def test_entities_are_counted_apart(harness: Harness) -> None:
    first, second = harness.entity([Rule(60, 1)]), harness.entity([Rule(60, 1)])
    assert harness.limiter.check(first).admitted
    assert harness.limiter.check(second).admitted
    assert not harness.limiter.check(first).admitted


def test_reads_come_back_with_the_decision(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 1)])
    generation, principal, missing = (keys.tagged(entity.key(), s) for s in ("gen", "principal", "nothing"))
    harness.store(generation, b"7")
    harness.store(principal, b"\x80blob")
    admitted = harness.limiter.check(entity, reads=[generation, principal, missing])
    assert admitted.reads == {generation: b"7", principal: b"\x80blob", missing: None}
    refused = harness.limiter.check(entity, reads=[generation])
    assert not refused.admitted and refused.reads == {generation: b"7"}


def test_a_peek_reads_in_the_same_step_and_counts_nothing(harness: Harness) -> None:
    entity = harness.entity([Rule(60, 1)])
    lock, missing = (keys.tagged(entity.key(), s) for s in ("locked", "nothing"))
    harness.store(lock, b"1234.5")
    peeked = harness.limiter.peek(entity, reads=[lock, missing])
    assert peeked.admitted and peeked.reads == {lock: b"1234.5", missing: None}
    assert harness.limiter.check(entity).admitted  # the peek took none of the one request
    with pytest.raises(ValueError, match="read key"):
        harness.limiter.peek(entity, reads=[keys.tagged(harness.entity([Rule(60, 1)]).key(), "locked")])


def test_reads_must_be_tagged_keys_of_the_entity(harness: Harness) -> None:
    entity, other = harness.entity([Rule(60, 1)]), harness.entity([Rule(60, 1)])
    for bad in (keys.tagged(other.key(), "gen"), "gen", keys.internal(entity.key(), "log")):
        with pytest.raises(ValueError, match="read key"):
            harness.limiter.check(entity, reads=[bad])
    assert harness.limiter.peek(entity).states[0].used == 0


def test_rolling_window_frees_one_request_at_a_time(harness: Harness) -> None:
    """Real clock: a 1-second rule admits again only when its oldest admission leaves."""
    entity = harness.entity([Rule(1, 2)])
    first = harness.limiter.check(entity)
    time.sleep(0.3)
    harness.limiter.check(entity)
    refused = harness.limiter.check(entity)
    assert not refused.admitted
    # The first admission leaves the window one second after it was made.
    assert refused.retry_after == pytest.approx(first.now + 1 - refused.now, abs=0.05)
    time.sleep(refused.retry_after + 0.05)
    again = harness.limiter.check(entity)
    assert again.admitted and again.remaining == 0
    assert not harness.limiter.check(entity).admitted  # the second admission is still in


def test_invalid_entities_and_costs_are_refused_loudly(harness: Harness) -> None:
    for key in ("", "a{b", "a}b"):
        with pytest.raises(ValueError, match="brace-free"):
            harness.limiter.check(Entity(key, [Rule(1, 1)]))
    with pytest.raises(ValueError, match="cost"):
        harness.limiter.check(harness.entity([Rule(1, 1)]), cost=0)
    with pytest.raises(ValueError):
        Rule(0, 1)


def test_an_entity_without_rules_is_counted_under_its_remembered_rules(harness: Harness) -> None:
    """Redis remembers an entity's rules from its last admitted check; a check without rules then
    counts under them (a caller that does not know them yet still counts in one round trip).
    Other backends remember none: unknown, nothing counted."""
    entity = harness.entity([Rule(60, 2)])
    ruleless = Entity(entity.key(), [])
    first = harness.limiter.check(ruleless)
    assert (first.known, first.admitted, first.states) == (False, False, ())
    assert harness.limiter.check(entity).admitted
    later = harness.limiter.check(ruleless)
    if harness.kind.startswith("redis"):
        assert later.known and later.admitted and [s.rule for s in later.states] == [Rule(60, 2)]
        refused = harness.limiter.check(ruleless)
        assert refused.known and not refused.admitted
        assert harness.limiter.peek(entity).states[0].used == 2
    else:
        assert not later.known
        assert harness.limiter.peek(entity).states[0].used == 1


def test_a_refusal_under_changed_rules_still_updates_the_remembered_ones(harness: Harness) -> None:
    """Rules tightened below what an entity already used: the refused check counts nothing,
    and a check without rules then decides under the new rules, not the old ones."""
    if not harness.kind.startswith("redis"):
        pytest.skip("only the Redis backend remembers rules")
    key = harness.entity([Rule(60, 5)]).key()
    for _ in range(3):
        assert harness.limiter.check(Entity(key, [Rule(60, 5)])).admitted
    tightened = harness.limiter.check(Entity(key, [Rule(60, 2)]))
    assert not tightened.admitted
    later = harness.limiter.check(Entity(key, []))
    assert later.known and not later.admitted and [s.rule for s in later.states] == [Rule(60, 2)]
    assert harness.limiter.peek(Entity(key, [Rule(60, 2)])).states[0].used == 3  # nothing counted since


def test_rules_of_one_length_each_count_every_request(harness: Harness) -> None:
    """A plan's 300/min and a key's stricter 2/min override both see every admission."""
    entity = harness.entity([Rule(60, 300), Rule(60, 2)])
    assert [harness.limiter.check(entity).admitted for _ in range(3)] == [True, True, False]
    assert [s.used for s in harness.limiter.peek(entity).states] == [2, 2]


def test_a_rule_marked_rolling_is_rolling_whatever_its_length(harness: Harness) -> None:
    """Long windows are fixed unless marked ``rolling`` (the lockout's): then no interval of
    that length admits more than the limit, across any multiple of it since the epoch."""
    if not harness.fake_time:
        pytest.skip("the cache backend runs on the cache's clock")
    entity = harness.entity([Rule(900, 2, rolling=True)])
    t0 = (time.time() // 900 + 1) * 900 - 1  # a second before a fixed window would restart
    assert harness.limiter.check(entity, now=t0).admitted
    assert harness.limiter.check(entity, now=t0 + 0.5).admitted
    refused = harness.limiter.check(entity, now=t0 + 2)  # a fixed window would admit this one
    assert not refused.admitted
    assert 897 < refused.retry_after <= 899
    assert harness.limiter.check(entity, now=t0 + 900.1).admitted  # the first has left the window
