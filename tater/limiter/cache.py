"""Cache backend: Django's public cache API only, for deployments whose shared cache is not
Redis (memcached). With Redis, use :class:`RedisBackend`. A cache without an atomic ``incr``
(the database and file caches: Django's ``BaseCache.incr`` is a get then a set) is refused
when the backend is made. The cache client's errors are outages (``LimiterUnavailable``):
the outage policy applies as on Redis.

**Rolling rules: slots.** A rule of ``limit`` requests per ``seconds`` owns ``limit`` slot
keys; an admission claims a free slot with ``cache.add(slot, now, timeout=seconds)``. A
slot can be claimed again only once its key has expired, ``seconds`` after the claim, so in
no interval of ``seconds`` are more than ``limit`` requests admitted, across processes,
provided that

- ``add`` is atomic (true for locmem within a process, memcached, Redis), and
- keys do not vanish before their timeout. They do under memory pressure (memcached LRU
  eviction, locmem culling beyond ``MAX_ENTRIES``) and, on memcached, by up to one second
  because its clock ticks in whole seconds; each early-freed slot can admit one request
  more than the limit in that window. Size the cache so limiter keys are not evicted.

Cost: one ``get_many`` of ``limit`` keys per rolling rule per check (plus one ``add`` per
admitted request), and ``limit`` keys of memory per rule per active entity; fine for
per-minute limits in the hundreds, heavy beyond.

**Fixed rules: counters.** ``add(counter, 0)`` then ``incr(counter, cost)``; above the limit
the increment is rolled back (``decr``) and the request refused. Never over-admits when
``incr`` is atomic; a request racing a refused one may be refused too.

**All rules at once.** Everything is read in one ``get_many`` (reads included) and a request
that does not fit writes nothing. One that fits claims its slots and counters; if a race
takes one away first, what it claimed is released and it is refused: nothing consumed.

Slot expiry runs on the cache's own clock, so this backend does not accept a ``now``.
``reads`` come from the same cache (values as stored, ``None`` when missing).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ImproperlyConfigured

from tater.limiter import keys
from tater.limiter.base import DEFAULT_ROLLING_MAX_SECONDS, CacheValues, RateLimiterBackend, store_call, strict
from tater.limiter.core import Decision, Receipt, Rule, RuleState, consumed, fixed_state, rolling_state
from tater.limiter.counters import decr_counter, incr_counter

# Fixed-window counters outlive their window a little, so a late reader still finds them.
COUNTER_GRACE = 5


@lru_cache(maxsize=64)
def _slot_suffixes(seconds: int, limit: int) -> tuple[str, ...]:
    # The limit is part of the name: two rules of one length (plan 300/min, override 5/min)
    # each need every admission in their own slots.
    return tuple(f"s{seconds}x{limit}:{i}" for i in range(limit))


class CacheBackend(CacheValues, RateLimiterBackend):
    def __init__(self, alias: str = "default", *, rolling_max_seconds: int = DEFAULT_ROLLING_MAX_SECONDS) -> None:
        super().__init__(rolling_max_seconds=rolling_max_seconds)
        self.alias = alias
        if type(caches[alias]).incr is BaseCache.incr:
            # BaseCache.incr is a get then a set: concurrent requests would all be admitted.
            raise ImproperlyConfigured(
                f"The rate limiter's cache {alias!r} ({type(caches[alias]).__name__}) has no atomic incr: "
                "use Redis, memcached or (one process) the local-memory cache"
            )

    @property
    def cache(self) -> Any:
        return strict(caches[self.alias])

    @store_call
    def check(self, key: str, rules: Sequence[Rule], *, cost: int, now: float | None, reads: Sequence[str]) -> Decision:
        if not rules:  # this backend remembers no rules: the caller decides again with them
            return Decision(False, (), time.time() if now is None else now, self._unknown_reads(reads), known=False)
        t = self._now(now)
        counted = [self._keys(key, rule, t) for rule in rules]
        found = self.cache.get_many([*reads, *(k for keys_ in counted for k in keys_)])
        values = {k: found.get(k) for k in reads}
        states = self._states(rules, counted, found, cost, t)
        if any(s.retry_after > 0 for s in states):
            return Decision(False, states, t, values)
        claimed = self._claim(rules, counted, found, cost, t)
        if claimed is None:
            # A concurrent request took what this one counted on: nothing was consumed.
            found = self.cache.get_many([k for keys_ in counted for k in keys_])
            return Decision(False, self._states(rules, counted, found, cost, t), t, values)
        after = tuple(consumed(s, cost, t, rolling=self.is_rolling(s.rule)) for s in states)
        return Decision(True, after, t, values, receipt=Receipt((*claimed, t), cost))

    @store_call
    def peek(self, key: str, rules: Sequence[Rule], *, now: float | None, reads: Sequence[str] = ()) -> Decision:
        if not rules:
            return Decision(False, (), time.time() if now is None else now, self._unknown_reads(reads), known=False)
        t = self._now(now)
        counted = [self._keys(key, rule, t) for rule in rules]
        found = self.cache.get_many([*reads, *(k for keys_ in counted for k in keys_)])
        states = self._states(rules, counted, found, 1, t)
        return Decision(all(s.retry_after == 0 for s in states), states, t, {k: found.get(k) for k in reads})

    @store_call
    def refund(self, key: str, receipt: Any, *, cost: int) -> None:
        slots, counters, claimed_at = receipt
        # A slot stays the claimer's until it expires ``seconds`` after the claim (then it may
        # be another's): freed only well before that (memcached's clock ticks in seconds, and
        # the delete takes a moment to arrive).
        t = time.time()
        self.cache.delete_many([slot for slot, seconds in slots if t - claimed_at < seconds - 2])
        for counter in counters:  # its window's own counter: a passed window counts nothing
            decr_counter(self.cache, counter, cost)

    def values_cache(self) -> Any:
        return self.cache

    def clear(self) -> None:
        """The cache cannot list keys: clear the cache itself (``cache.clear()``) instead."""

    @store_call
    def reset(self, key: str, rules: Sequence[Rule]) -> None:
        t = time.time()
        self.cache.delete_many([k for rule in rules for k in self._keys(key, rule, t)])

    def _keys(self, key: str, rule: Rule, t: float) -> tuple[str, ...]:
        """The cache keys counting ``rule`` for ``key`` at ``t``: its slots, or the window's counter."""
        if self.is_rolling(rule):
            base = keys.internal(key, "")
            return tuple(base + suffix for suffix in _slot_suffixes(rule.seconds, rule.limit))
        return (keys.internal(key, f"f{rule.seconds}x{rule.limit}:{int(t // rule.seconds)}"),)

    @staticmethod
    def _now(now: float | None) -> float:
        if now is not None:
            raise ValueError("CacheBackend counts on the cache's clock (slot expiry); it takes no `now`")
        return time.time()

    def _states(
        self, rules: Sequence[Rule], counted: list[tuple[str, ...]], found: dict[str, Any], cost: int, t: float
    ) -> tuple[RuleState, ...]:
        states = []
        for rule, keys_ in zip(rules, counted, strict=True):
            if self.is_rolling(rule):
                states.append(rolling_state(rule, sorted(found[k] for k in keys_ if k in found), cost, t))
            else:
                states.append(fixed_state(rule, found.get(keys_[0], 0), cost, t))
        return tuple(states)

    def _claim(
        self, rules: Sequence[Rule], counted: list[tuple[str, ...]], found: dict[str, Any], cost: int, t: float
    ) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]] | None:
        """Take ``cost`` slots or counts in every rule: what was taken (each slot with its
        rule's length, the counters), or None when a race took one first (all given back)."""
        slots: list[str] = []
        spans: list[int] = []
        counters: list[str] = []
        try:
            for rule, keys_ in zip(rules, counted, strict=True):
                if self.is_rolling(rule):
                    taken = self._take_slots([k for k in keys_ if k not in found], cost, t, rule.seconds)
                    slots += taken
                    spans += [rule.seconds] * len(taken)
                    fits = len(taken) == cost
                else:
                    window_end = (t // rule.seconds + 1) * rule.seconds
                    counters.append(keys_[0])
                    fits = (
                        incr_counter(self.cache, keys_[0], cost, timeout=math.ceil(window_end - t) + COUNTER_GRACE)
                        <= rule.limit
                    )
                if not fits:
                    self._release(slots, counters, cost)
                    return None
        except Exception:
            self._release(slots, counters, cost)
            raise
        return tuple(zip(slots, spans, strict=True)), tuple(counters)

    def _take_slots(self, free: list[str], cost: int, t: float, seconds: int) -> list[str]:
        cache = self.cache
        taken: list[str] = []
        for slot in free:
            if len(taken) == cost:
                break
            if cache.add(slot, t, timeout=seconds):  # atomic: one claimer wins a free slot
                taken.append(slot)
        return taken

    def _release(self, slots: list[str], counters: list[str], cost: int) -> None:
        if slots:
            self.cache.delete_many(slots)
        for counter in counters:
            decr_counter(self.cache, counter, cost)
