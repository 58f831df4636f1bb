"""In-process backend: the embedded default (one process, any number of threads).

Per entity, one deque of admission times (the sliding log shared by every rolling rule,
oldest first, trimmed to the longest rolling window) and, per fixed rule length, the
current window's index and count. One lock guards everything, so a decision is atomic
across the threads of the process. Exact, but per process: with several workers each one
counts alone (use Redis).

Memory: at most the limit of the longest rolling rule timestamps per entity (the log never
holds more than that many entries inside that window). Entities whose windows have all
passed are dropped by a sweep every ``sweep_interval`` seconds, so idle keys cost nothing.

``reads`` come from the Django cache (``cache_alias``) through ``get_many``: values as the
cache holds them, ``None`` when missing.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from threading import Lock
from typing import Any

from django.core.cache import caches

from tater.limiter.base import DEFAULT_ROLLING_MAX_SECONDS, CacheValues, RateLimiterBackend, strict
from tater.limiter.core import NO_READS, Decision, Receipt, Rule, RuleState, fixed_state, rolling_state

DEFAULT_SWEEP_INTERVAL = 30.0


class _Counts:
    """What is counted for one entity."""

    __slots__ = ("log", "windows", "expires")

    def __init__(self) -> None:
        self.log: deque[float] = deque()
        self.windows: dict[int, tuple[int, int]] = {}  # rule seconds -> (window index, count)
        self.expires = 0.0  # after this instant nothing counted here matters any more


class _Tail(Sequence[float]):
    """The entries of a log from ``start`` on, without copying them."""

    __slots__ = ("_log", "_start")

    def __init__(self, log: deque[float], start: int) -> None:
        self._log = log
        self._start = start

    def __len__(self) -> int:
        return len(self._log) - self._start

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int):
            raise TypeError("_Tail supports integer indices only")
        return self._log[index] if index < 0 else self._log[self._start + index]


class _Plan:
    """A rule set as the backend walks it: each rule with whether it is rolling, and the
    longest rolling window (0: none)."""

    __slots__ = ("rules", "longest", "fixed")

    def __init__(self, rules: tuple[Rule, ...], is_rolling: Callable[[Rule], bool]) -> None:
        self.rules = tuple((rule, is_rolling(rule)) for rule in rules)
        self.longest = max((rule.seconds for rule, rolling in self.rules if rolling), default=0)
        self.fixed = tuple(sorted({rule.seconds for rule, rolling in self.rules if not rolling}))


def _window_start(log: deque[float], plan: _Plan, rule: Rule, t: float) -> int:
    """Where a rolling rule's window (t - seconds, t] starts in the sorted, trimmed log."""
    return 0 if rule.seconds == plan.longest else bisect_right(log, t - rule.seconds)


def _window_count(counts: _Counts, rule: Rule, t: float) -> int:
    """A fixed rule's count in its current window (0 once the window has passed)."""
    index, count = counts.windows.get(rule.seconds, (-1, 0))
    return count if index == int(t // rule.seconds) else 0


class InProcessBackend(CacheValues, RateLimiterBackend):
    def __init__(
        self,
        *,
        rolling_max_seconds: int = DEFAULT_ROLLING_MAX_SECONDS,
        cache_alias: str = "default",
        sweep_interval: float = DEFAULT_SWEEP_INTERVAL,
    ) -> None:
        super().__init__(rolling_max_seconds=rolling_max_seconds)
        self.cache_alias = cache_alias
        self.sweep_interval = sweep_interval
        self._lock = Lock()
        self._entities: dict[str, _Counts] = {}
        self._next_sweep = 0.0
        self._plans: dict[object, _Plan] = {}  # keyed by the rule tuple

    def __len__(self) -> int:
        """How many entities hold state (tests assert idle ones are dropped)."""
        return len(self._entities)

    def check(self, key: str, rules: Sequence[Rule], *, cost: int, now: float | None, reads: Sequence[str]) -> Decision:
        if not rules:  # this backend remembers no rules: the caller decides again with them
            return Decision(False, (), time.time() if now is None else now, self._unknown_reads(reads), known=False)
        plan = self._plan(rules)
        with self._lock:
            t = time.time() if now is None else now
            counts = self._counts(key, t)
            self._trim(counts, plan, t)
            used = self._used(counts, plan, t)
            admitted = all(n + cost <= rule.limit for n, (rule, _) in zip(used, plan.rules, strict=True))
            receipt = None
            if admitted:
                states, stamp = self._count(key, counts, plan, used, cost, t)
                # Its log entries (if any), when it was counted, the fixed windows it counted in.
                receipt = Receipt((stamp, t, plan.fixed), cost)
            else:
                states = self._states(counts, plan, cost, t)  # what each rule waits for
        return Decision(admitted, states, t, self._read(reads) if reads else NO_READS, receipt=receipt)

    def peek(self, key: str, rules: Sequence[Rule], *, now: float | None, reads: Sequence[str] = ()) -> Decision:
        values = self._read(reads) if reads else NO_READS
        if not rules:
            return Decision(False, (), time.time() if now is None else now, values, known=False)
        plan = self._plan(rules)
        with self._lock:
            t = time.time() if now is None else now
            counts = self._counts(key, t)
            self._trim(counts, plan, t)
            states = self._states(counts, plan, 1, t)
        return Decision(all(s.retry_after == 0 for s in states), states, t, values)

    def refund(self, key: str, receipt: Any, *, cost: int) -> None:
        stamp, admitted_at, fixed = receipt
        with self._lock:
            counts = self._entities.get(key)
            if counts is None:
                return
            for _ in range(cost if stamp is not None else 0):  # its entries while in the log
                if stamp not in counts.log:  # (equal stamps are alike)
                    break
                counts.log.remove(stamp)
            for seconds in fixed:  # the windows it counted in, while current
                index, count = counts.windows.get(seconds, (-1, 0))
                if index == int(admitted_at // seconds):
                    counts.windows[seconds] = (index, max(0, count - cost))

    def values_cache(self) -> Any:
        return strict(caches[self.cache_alias])

    def clear(self) -> None:
        with self._lock:
            self._entities.clear()

    def reset(self, key: str, rules: Sequence[Rule]) -> None:
        with self._lock:
            self._entities.pop(key, None)

    # --- under the lock --------------------------------------------------------------

    def _counts(self, key: str, t: float) -> _Counts:
        if t >= self._next_sweep:
            self._sweep(t)
        return self._entities.get(key) or _Counts()

    def _sweep(self, t: float) -> None:
        self._next_sweep = t + self.sweep_interval
        for key in [k for k, c in self._entities.items() if c.expires <= t]:
            del self._entities[key]

    def _trim(self, counts: _Counts, plan: _Plan, t: float) -> None:
        """Drop the log's entries older than the longest rolling window (a check with fixed
        rules only leaves the log alone: other rule sets of the entity may still need it)."""
        if not plan.longest:
            return
        log = counts.log
        cutoff = t - plan.longest
        while log and log[0] <= cutoff:
            log.popleft()

    def _states(self, counts: _Counts, plan: _Plan, cost: int, t: float) -> tuple[RuleState, ...]:
        """Each rule's state for a request of ``cost`` (the log trimmed), with what it waits for."""
        log = counts.log
        states = []
        for rule, rolling in plan.rules:
            if rolling:
                states.append(rolling_state(rule, _Tail(log, _window_start(log, plan, rule, t)), cost, t))
            else:
                states.append(fixed_state(rule, _window_count(counts, rule, t), cost, t))
        return tuple(states)

    def _used(self, counts: _Counts, plan: _Plan, t: float) -> list[int]:
        """Requests counted in each rule's current window (the log trimmed)."""
        log = counts.log
        return [
            len(log) - _window_start(log, plan, rule, t) if rolling else _window_count(counts, rule, t)
            for rule, rolling in plan.rules
        ]

    def _count(
        self, key: str, counts: _Counts, plan: _Plan, used: list[int], cost: int, t: float
    ) -> tuple[tuple[RuleState, ...], float | None]:
        """Count an admitted request of ``cost``; the rules' states after it, and the time
        its log entries carry (None without a rolling rule)."""
        expires = counts.expires
        stamp = None
        if plan.longest:
            # Never older than the newest entry, so the log stays sorted if the clock steps back.
            stamp = max(t, counts.log[-1]) if counts.log else t
            counts.log.extend([stamp] * cost)
            expires = max(expires, stamp + plan.longest)
        states = []
        for n, (rule, rolling) in zip(used, plan.rules, strict=True):
            if rolling:
                reset = t + rule.seconds
            else:
                # Rules of the same length share one count: each writes the same new value.
                index = int(t // rule.seconds)
                counts.windows[rule.seconds] = (index, n + cost)
                reset = float((index + 1) * rule.seconds)
                expires = max(expires, reset)
            states.append(RuleState(rule, n + cost, reset, 0.0))
        counts.expires = expires
        self._entities[key] = counts
        return tuple(states), stamp

    def _plan(self, rules: Sequence[Rule]) -> _Plan:
        """Which of ``rules`` are rolling, and the longest rolling window: once per rule set."""
        plan = self._plans.get(rules)
        if plan is None:
            if len(self._plans) > 4096:
                self._plans.clear()
            plan = self._plans[tuple(rules)] = _Plan(tuple(rules), self.is_rolling)
        return plan

    # --- outside the lock ------------------------------------------------------------

    def _read(self, reads: Sequence[str]) -> dict[str, Any]:
        found = caches[self.cache_alias].get_many(reads)
        return {k: found.get(k) for k in reads}
