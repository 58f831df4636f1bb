"""The backend interface: where counts live. Callers use :class:`tater.limiter.Limiter`."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from tater.limiter.core import Decision, LimiterUnavailable, Rule

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_ROLLING_MAX_SECONDS = 60


class Sent(ABC):
    """A check sent to the store whose answer is read later (:meth:`RateLimiterBackend.send`):
    either :meth:`result` or :meth:`discard`, once."""

    @abstractmethod
    def result(self) -> Decision:
        """The check's decision (raises :class:`~tater.limiter.LimiterUnavailable`)."""

    @abstractmethod
    def discard(self) -> Decision | None:
        """The answer of a check nobody wants, so that what it counted can be given back:
        its decision, or None when nothing is known to have been counted. Never asks the
        store again."""

    @abstractmethod
    def abandon(self) -> None:
        """Drop the answer unread (the store is known to be down: reading it would wait).
        Whatever the check counted stays counted (one too many, never one too few)."""


class Answered(Sent):
    """A check decided when it was sent: stores without a round trip to overlap."""

    def __init__(self, decision: Decision) -> None:
        self._decision = decision

    def result(self) -> Decision:
        return self._decision

    def discard(self) -> Decision | None:
        return self._decision

    def abandon(self) -> None:
        """Nothing to read: the answer came with the call."""


class RateLimiterBackend(ABC):
    """Counts requests per entity key against its rules; one instance per process.

    Rules of at most ``rolling_max_seconds`` (and any rule marked ``rolling``) are counted
    in a rolling window (a sliding log of admission times: in no interval of that length
    are more than ``limit`` admitted); longer rules in fixed windows aligned to the epoch. Every method gets the entity's key
    (checked by the caller: non-empty, brace-free) and its rules (non-empty).

    Backends raise :class:`~tater.limiter.LimiterUnavailable` when their store cannot answer.
    """

    #: Whether :meth:`send` leaves a network round trip running while the caller works
    #: (else sending a check ahead gains nothing: it is decided at once).
    sends_ahead = False

    @property
    def fails_as_one(self) -> bool:
        """Whether one call that timed out means the whole store does not answer (then
        ``Limiter`` stops asking it for a moment); False for a store of independent nodes."""
        return True

    def __init__(self, *, rolling_max_seconds: int = DEFAULT_ROLLING_MAX_SECONDS) -> None:
        self.rolling_max_seconds = rolling_max_seconds

    def is_rolling(self, rule: Rule) -> bool:
        return rule.rolling or rule.seconds <= self.rolling_max_seconds

    @abstractmethod
    def check(self, key: str, rules: Sequence[Rule], *, cost: int, now: float | None, reads: Sequence[str]) -> Decision:
        """Admit ``cost`` requests for every rule at once, or none (a refusal consumes nothing).

        ``reads`` (keys built with :func:`tater.limiter.keys.tagged` for this entity) are
        read in the same step and returned in ``Decision.reads``. ``now`` (epoch seconds)
        replaces the store's clock, for tests.
        """

    def send(self, key: str, rules: Sequence[Rule], *, cost: int, reads: Sequence[str]) -> Sent:
        """:meth:`check` on the store's clock, its answer read by ``Sent.result()``: a store
        across a network gets the call now and answers while the caller does other work."""
        return Answered(self.check(key, rules, cost=cost, now=None, reads=reads))

    @abstractmethod
    def peek(self, key: str, rules: Sequence[Rule], *, now: float | None, reads: Sequence[str] = ()) -> Decision:
        """The quota as it stands; ``admitted``: whether one more request would be; ``reads``
        as for :meth:`check`, in the same step."""

    @abstractmethod
    def refund(self, key: str, receipt: Any, *, cost: int) -> None:
        """Give back the admission of ``receipt`` (``Receipt.data`` of one of this backend's
        decisions, of ``cost`` requests) exactly, in whatever it still counts: its log
        entries while in the window, its fixed-window counts while that window is current;
        never another admission's."""

    @abstractmethod
    def reset(self, key: str, rules: Sequence[Rule]) -> None:
        """Forget everything counted for ``key`` (the cache backend needs the rules to find it)."""

    # --- the caller's values, kept beside the counts (what ``reads`` reads) -------------

    @abstractmethod
    def write(self, values: Mapping[str, str], *, ttl: int, only_if_absent: bool = False) -> dict[str, bool]:
        """Store caller values (keys made with :func:`tater.limiter.keys.tagged`) where
        ``check(..., reads=...)`` reads them, for ``ttl`` seconds. ``only_if_absent``: keep
        any existing value (``False`` for that key in the answer)."""

    @abstractmethod
    def read(self, names: Sequence[str]) -> dict[str, Any]:
        """Caller values as ``check(..., reads=names)`` would return them, counting nothing."""

    @abstractmethod
    def delete(self, names: Sequence[str]) -> None:
        """Remove caller values (tagged keys)."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every count and caller value under this deployment's key prefix (tests,
        operators resetting limits)."""


def store_call(method: F) -> F:
    """For a backend over a Django cache: the cache client's own errors (its server
    unreachable, a database cache's database down) become :class:`LimiterUnavailable`, so the
    outage policy applies as on Redis. Errors of the calling code itself stay what they are."""

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (LimiterUnavailable, TypeError, ValueError, AttributeError, KeyError, NotImplementedError):
            raise
        except Exception as exc:  # noqa: BLE001 - any client's error type (redis, pymemcache, the database)
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    return cast(F, guarded)


def strict(cache: Any) -> Any:
    """``cache`` failing loudly during an outage (``tater.cache.RedisCache.strict``; other
    caches as they are): the limiter must see an outage, never read it as a miss."""
    return getattr(cache, "strict", cache)


class CacheValues:
    """Caller values (``reads``) kept in a Django cache: for the backends without a store of
    their own to read them from in the counting step."""

    def values_cache(self) -> Any:
        raise NotImplementedError

    @store_call
    def write(self, values: Mapping[str, str], *, ttl: int, only_if_absent: bool = False) -> dict[str, bool]:
        cache = self.values_cache()
        if not only_if_absent:
            cache.set_many(dict(values), ttl)
            return dict.fromkeys(values, True)
        return {name: bool(cache.add(name, value, ttl)) for name, value in values.items()}

    @store_call
    def read(self, names: Sequence[str]) -> dict[str, Any]:
        found = self.values_cache().get_many(list(names))
        return {name: found.get(name) for name in names}

    def _unknown_reads(self, names: Sequence[str]) -> dict[str, Any]:
        return self.read(names) if names else {}

    @store_call
    def delete(self, names: Sequence[str]) -> None:
        self.values_cache().delete_many(list(names))
