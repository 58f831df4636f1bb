"""The limiter's vocabulary: rules, entities, decisions (shared by every backend)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

# The value types below are NamedTuples: immutable like frozen dataclasses, but built,
# hashed and compared in C. A request makes a handful of them (see docs/performance.md).

NO_READS: Mapping[str, Any] = MappingProxyType({})


class LimiterUnavailable(Exception):
    """The rate-limit store cannot be reached (or cannot answer) right now.

    Backends raise it; :class:`tater.limiter.Limiter` applies the outage policy
    (``TATER_RATELIMIT_FAIL_OPEN``): admit with a ``degraded`` decision, or re-raise.
    """


class _RuleFields(NamedTuple):
    seconds: int
    limit: int
    rolling: bool = False


class Rule(_RuleFields):
    """At most ``limit`` requests in ``seconds``. Rules of up to
    ``TATER_RATELIMIT_ROLLING_MAX_SECONDS`` (60) are rolling windows, longer ones fixed
    windows aligned to the epoch, unless ``rolling`` asks for a rolling window whatever the
    length (worth it where the limit is small: the sliding log holds up to ``limit`` times,
    e.g. the lockout's "10 failures within 15 minutes")."""

    __slots__ = ()

    def __new__(cls, seconds: int, limit: int, rolling: bool = False) -> Rule:
        if type(seconds) is not int or type(limit) is not int or seconds < 1 or limit < 1:
            raise ValueError(f"Rule needs positive integer seconds and limit, got {seconds!r}, {limit!r}")
        return super().__new__(cls, seconds, limit, bool(rolling))

    def __repr__(self) -> str:
        return f"Rule(seconds={self.seconds}, limit={self.limit}{', rolling=True' if self.rolling else ''})"


class Receipt:
    """What a backend needs to give back one admission exactly (``Decision.receipt``): its
    own log entries and counts, under the rules it was counted under, and its cost. Spent
    by the first refund (a second gives nothing back)."""

    __slots__ = ("cost", "data", "spent")

    def __init__(self, data: Any, cost: int) -> None:
        self.data, self.cost, self.spent = data, cost, False

    def __repr__(self) -> str:
        return f"Receipt(cost={self.cost}, spent={self.spent})"


class RateLimitedEntity(Protocol):
    """Whatever is limited: it names itself and its rules, nothing else (Zulip's shape)."""

    def key(self) -> str:
        """Who is limited, e.g. ``"key:<digest>"`` or ``"user:42"`` (no braces)."""
        ...

    def rules(self) -> Sequence[Rule]:
        """The limits that apply, e.g. ``[Rule(60, 300), Rule(3600, 10_000)]``; empty: the
        rules remembered from the entity's last check (see ``Limiter.check``)."""
        ...


class Entity:
    """A ready-made :class:`RateLimitedEntity` for a fixed key and rules."""

    __slots__ = ("_key", "_rules")

    def __init__(self, key: str, rules: Sequence[Rule]) -> None:
        self._key = key
        self._rules = tuple(rules)
        if not all(isinstance(rule, Rule) for rule in self._rules):
            raise TypeError(f"Entity rules must be a sequence of Rule, got {rules!r}")

    def key(self) -> str:
        return self._key

    def rules(self) -> Sequence[Rule]:
        return self._rules

    def __repr__(self) -> str:
        return f"Entity({self._key!r}, {list(self._rules)!r})"


class RuleState(NamedTuple):
    """One rule after a decision.

    ``used``: requests counted in the rule's current window (including this one if admitted).
    ``reset``: epoch seconds at which the rule's whole quota is free again.
    ``retry_after``: seconds until a request of the asked cost fits this rule (0: fits now).
    """

    rule: Rule
    used: int
    reset: float
    retry_after: float

    @property
    def limit(self) -> int:
        return self.rule.limit

    @property
    def remaining(self) -> int:
        return max(0, self.rule.limit - self.used)


class Decision(NamedTuple):
    """The answer of :func:`tater.limiter.check` (or ``peek``) for every rule at once.

    ``limit``, ``remaining``, ``reset`` and ``retry_after`` are those of the *binding* rule:
    when refused, the refusing rule that frees up last; when admitted, the rule with the
    fewest requests left. ``reads`` maps each requested extra key to its value (``None`` when
    missing). ``degraded`` is set when the store was unreachable and the fail-open policy
    admitted the request uncounted. ``known`` is False when the entity was checked without
    rules and the store remembered none: nothing was counted and ``states`` is empty.
    ``receipt`` (an admission's, None for anything that counted nothing: a refusal, a
    degraded or peeked decision) lets ``refund`` give back exactly this admission, however
    much later, never another one.
    """

    admitted: bool
    states: tuple[RuleState, ...]
    now: float
    reads: Mapping[str, Any] = NO_READS
    degraded: bool = False
    known: bool = True  # False: asked without rules and the store remembered none (nothing counted)
    receipt: Receipt | None = None

    @property
    def binding(self) -> RuleState:
        if not self.states:
            raise ValueError("a decision without rules (known=False) has no binding rule")
        if not self.admitted:
            waiting = [s for s in self.states if s.retry_after > 0]
            if waiting:
                return max(waiting, key=lambda s: s.retry_after)
        return min(self.states, key=lambda s: (s.remaining, -s.reset))

    @property
    def limit(self) -> int:
        return self.binding.limit

    @property
    def remaining(self) -> int:
        return self.binding.remaining

    @property
    def reset(self) -> float:
        return self.binding.reset

    @property
    def retry_after(self) -> float:
        return 0.0 if self.admitted else self.binding.retry_after

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` of the binding rule, plus ``Retry-After`` (≥ 1 s) when refused."""
        out = self.rate_limit_headers()
        if not self.admitted:
            out["Retry-After"] = str(max(1, math.ceil(self.binding.retry_after)))
        return out

    def rate_limit_headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` of the binding rule: what every counted response carries."""
        binding = self.binding
        return {
            "X-RateLimit-Limit": str(binding.rule.limit),
            "X-RateLimit-Remaining": str(binding.remaining),
            "X-RateLimit-Reset": str(math.ceil(binding.reset)),
        }


def degraded_decision(rules: Sequence[Rule], now: float, reads: Sequence[str]) -> Decision:
    """What a fail-open limiter answers when the store is unreachable: admitted, uncounted."""
    states = tuple(RuleState(rule, 0, now, 0.0) for rule in rules)
    return Decision(True, states, now, dict.fromkeys(reads), degraded=True)


def rolling_state(rule: Rule, times: Sequence[float], cost: int, now: float) -> RuleState:
    """A sliding-log rule's state from the admission times in its window (oldest first).

    ``retry_after``: the ``k``-th oldest entry must leave the window for ``cost`` more to fit
    (``k = used + cost - limit``); it leaves ``seconds`` after it was admitted. A cost above
    the limit never fits: ``retry_after`` is then the rule's whole window.
    """
    used = len(times)
    reset = times[-1] + rule.seconds if used else now
    excess = used + cost - rule.limit
    if excess <= 0:
        wait = 0.0
    elif cost > rule.limit:
        wait = float(rule.seconds)
    else:
        wait = times[excess - 1] + rule.seconds - now
    return RuleState(rule, used, reset, wait)


def fixed_state(rule: Rule, used: int, cost: int, now: float) -> RuleState:
    """A fixed-window rule's state: windows are aligned to the epoch (``now // seconds``)."""
    reset = (now // rule.seconds + 1) * rule.seconds
    if used + cost <= rule.limit:
        wait = 0.0
    elif cost > rule.limit:
        wait = float(rule.seconds)
    else:
        wait = reset - now
    return RuleState(rule, used, reset, wait)


def consumed(state: RuleState, cost: int, now: float, *, rolling: bool) -> RuleState:
    """The state after an admitted request of ``cost`` was counted at ``now``."""
    reset = now + state.rule.seconds if rolling else state.reset
    return RuleState(state.rule, state.used + cost, reset, 0.0)
