"""The one decision function, the outage policy, and the backend chosen once from settings.

Settings (all optional):

- ``TATER_RATELIMIT_BACKEND``: ``"redis"`` (default when ``REDIS_URL`` is set),
  ``"inprocess"`` (default otherwise) or ``"cache"`` (the Django cache named by
  ``TATER_RATELIMIT_CACHE``, default ``"default"``).
- ``TATER_RATELIMIT_ROLLING_MAX_SECONDS`` (60): rules up to this length use rolling windows,
  longer ones fixed windows.
- ``TATER_RATELIMIT_FAIL_OPEN`` (True): when the store cannot answer, admit the request
  uncounted (``Decision.degraded``; a warning is logged at most once a minute) instead of
  raising :class:`LimiterUnavailable` (which the caller turns into a 503).
- ``TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS`` (5): after a call to the store waited and
  failed (a timeout), the store is not asked again for this long: every call meets the
  outage at once (:class:`Breaker`; 0 turns this off).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, NamedTuple, ParamSpec, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from tater.limiter import keys
from tater.limiter.base import DEFAULT_ROLLING_MAX_SECONDS, RateLimiterBackend, Sent
from tater.limiter.cache import CacheBackend
from tater.limiter.core import Decision, LimiterUnavailable, RateLimitedEntity, Receipt, Rule, degraded_decision
from tater.limiter.inprocess import InProcessBackend
from tater.limiter.redis_backend import RedisBackend

logger = logging.getLogger("tater.limiter")

SETTINGS = frozenset(
    {
        "REDIS_URL",
        "TATER_RATELIMIT_BACKEND",
        "TATER_RATELIMIT_CACHE",
        "TATER_RATELIMIT_ROLLING_MAX_SECONDS",
        "TATER_RATELIMIT_FAIL_OPEN",
    }
)
WARN_INTERVAL = 60.0

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_BACKOFF_SECONDS = 5.0
# A failure that took this long made its caller wait (a timeout); a refusal takes microseconds.
WAITED_SECONDS = 0.05

_breakers: weakref.WeakSet[Breaker] = weakref.WeakSet()


class Breaker:
    """A short circuit breaker: a store that made a call wait and then failed is not asked
    again for a few seconds.

    A hung store (a stalled primary, a black-holed network) answers nothing until the socket
    timeout, and a request asks it several times (the check sent ahead, the check, key
    invalidations): without the breaker each ask pays the timeout. With it the first failure
    pays, and every call in the next ``TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS`` fails at once
    with :class:`LimiterUnavailable`, exactly as if the store had failed, so the outage policy
    applies unchanged. After the window one call asks the store again (the others keep
    failing at once until it has its answer): it closes the breaker, or opens another window.
    Only a failure that waited opens it: a store that refuses at once (connection refused)
    costs nothing to ask again, and is used again as soon as it answers.

    One per :class:`Limiter`, shared by its threads. Around each call to the store:
    ``started = enter()`` (raises while open), then ``failed(started, exc)`` on
    :class:`LimiterUnavailable` or ``passed()`` on an answer.
    """

    def __init__(self, backoff: float | None = None) -> None:
        """``backoff``: seconds; ``None`` reads ``TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS`` on each failure."""
        self._backoff = backoff
        self._lock = threading.Lock()
        self._open_until = 0.0  # monotonic; 0.0: closed (the store is asked)
        self._cause = ""
        _breakers.add(self)

    @property
    def closed(self) -> bool:
        return not self._open_until

    def enter(self) -> float:
        """The start of a call to the store (monotonic seconds), or :class:`LimiterUnavailable`
        while open. The first call after the window is let through alone: until it fails or
        passes, the others are refused for another window."""
        if not self._open_until:
            return time.monotonic()
        t = time.monotonic()
        with self._lock:
            until = self._open_until
            if until and t < until:
                raise LimiterUnavailable(f"not asked for another {until - t:.1f}s after {self._cause}")
            if until:
                self._open_until = t + self.backoff()  # this call asks; the others wait for its answer
        return t

    def passed(self) -> None:
        """The store answered."""
        if self._open_until:
            with self._lock:
                self._open_until = 0.0

    def failed(self, started: float, exc: LimiterUnavailable) -> None:
        """A call that began at ``started`` met :class:`LimiterUnavailable`."""
        t = time.monotonic()
        waited = t - started >= WAITED_SECONDS
        backoff = self.backoff() if waited else 0.0
        with self._lock:
            if backoff > 0:
                self._open_until, self._cause = t + backoff, str(exc)
            else:
                self._open_until = 0.0  # refused at once (or no breaker): asking again costs nothing

    def backoff(self) -> float:
        if self._backoff is not None:
            return self._backoff
        return float(getattr(settings, "TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS))

    def _after_fork_in_child(self) -> None:
        # A forked worker asks the store itself, with a lock nobody holds (a thread of the
        # parent may have held it at the fork).
        self._lock = threading.Lock()
        self._open_until, self._cause = 0.0, ""


def _after_fork_in_child() -> None:
    for breaker in list(_breakers):
        breaker._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Ahead(NamedTuple):
    """A check sent ahead in this context, waiting for the identical check to claim it."""

    limiter: Limiter
    entity: RateLimitedEntity
    call: tuple[str, tuple[Rule, ...], tuple[str, ...], int]  # key, rules, reads, cost
    sent: Sent


_ahead: ContextVar[_Ahead | None] = ContextVar("tater_limiter_ahead", default=None)


class Limiter:
    """Checks entities against their rules on one backend, applying the outage policy."""

    def __init__(
        self, backend: RateLimiterBackend, *, fail_open: bool | None = None, outage_backoff: float | None = None
    ) -> None:
        """``fail_open``: ``None`` reads ``TATER_RATELIMIT_FAIL_OPEN`` on each outage;
        ``outage_backoff``: ``None`` reads ``TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS``."""
        self.backend = backend
        self._fail_open = fail_open
        # On a store of independent nodes (Redis Cluster) there is no breaker: per node, not built.
        self._breaker = Breaker(outage_backoff if backend.fails_as_one else 0.0)
        self._warn_lock = threading.Lock()
        self._next_warning = 0.0

    def check(
        self, entity: RateLimitedEntity, *, reads: Sequence[str] = (), cost: int = 1, now: float | None = None
    ) -> Decision:
        """Admit ``cost`` requests of ``entity`` under all its rules at once, or refuse.

        A refused request consumes nothing. An entity without rules is counted under the
        rules remembered from its last admitted check (the Redis backend remembers them; elsewhere,
        or when none are remembered, ``Decision.known`` is False and nothing is counted):
        a caller that learns an entity's rules only from what it reads can still count in
        one round trip. ``reads``: keys made with
        ``keys.tagged(entity.key(), suffix)``, read in the same step (one Redis round trip)
        and returned in ``Decision.reads``. ``now`` (epoch seconds) is for tests.
        """
        key, rules = _unpack(entity)
        if cost < 1:
            raise ValueError(f"cost must be at least 1, got {cost}")
        if reads:
            keys.check_reads(key, reads)
        ahead = _ahead.get()
        try:
            if ahead is not None:
                if now is None and ahead.limiter is self and ahead.call == (key, rules, tuple(reads), cost):
                    _ahead.set(None)
                    return self._answer(ahead.sent)  # the very same check, sent ahead: its answer
                self.settle_ahead()  # another check: what was sent ahead is not counted
            return self._ask(self.backend.check, key, rules, cost=cost, now=now, reads=reads)
        except LimiterUnavailable as exc:
            return self._outage(exc, rules, now, reads)

    @property
    def sends_ahead(self) -> bool:
        """Whether :meth:`send_ahead` gains anything here (a store across a network)."""
        return self.backend.sends_ahead

    def send_ahead(self, entity: RateLimitedEntity, *, reads: Sequence[str] = (), cost: int = 1) -> None:
        """Start ``check(entity, reads=reads, cost=cost)`` now, so that its round trip runs
        while the caller does other work: the first identical check in this context (thread
        or task) gets its answer instead of asking the store. The caller must end with
        :meth:`settle_ahead`, which gives back what an unclaimed check counted.

        Where checks are decided in the process (``sends_ahead`` False), or while the store
        is not asked (:class:`Breaker`), nothing is sent.
        """
        self.settle_ahead()  # one check ahead per context
        if not self.backend.sends_ahead or not self._breaker.closed:
            return  # after the backoff, the check itself asks the store again
        key, rules = _unpack(entity)
        if reads:
            keys.check_reads(key, reads)
        started = self._breaker.enter()
        try:
            sent = self.backend.send(key, rules, cost=cost, reads=reads)
        except LimiterUnavailable as exc:
            self._breaker.failed(started, exc)
            return  # the check itself meets the outage and applies the policy
        _ahead.set(_Ahead(self, entity, (key, rules, tuple(reads), cost), sent))

    def settle_ahead(self) -> None:
        """Forget this context's unclaimed check sent ahead: its answer is read (freeing its
        connection) and whatever it counted given back."""
        ahead = _ahead.get()
        if ahead is None:
            return
        _ahead.set(None)
        try:
            if not ahead.limiter._breaker.closed:
                ahead.sent.abandon()  # the store does not answer: reading would wait
                return
            decision = ahead.sent.discard()
            if decision is not None and decision.admitted and decision.known and not decision.degraded:
                ahead.limiter.refund(ahead.entity, decision.receipt)
        except Exception:  # noqa: BLE001 - a request's answer never fails for a check it did not use
            logger.exception("could not settle a rate-limit check sent ahead")

    def peek(self, entity: RateLimitedEntity, *, reads: Sequence[str] = (), now: float | None = None) -> Decision:
        """The quota as it stands, consuming nothing (``admitted``: would one more be);
        ``reads`` as for :meth:`check`, in the same round trip."""
        key, rules = _unpack(entity)
        if reads:
            keys.check_reads(key, reads)
        try:
            return self._ask(self.backend.peek, key, rules, now=now, reads=reads)
        except LimiterUnavailable as exc:
            return self._outage(exc, rules, now, reads)

    def refund(self, entity: RateLimitedEntity, receipt: Receipt | None) -> None:
        """Give back the admission ``receipt`` stands for (``Decision.receipt``), exactly and
        once, however much later, in whatever it still counts (best effort: skipped during
        an outage). Never another admission: the newest, given back in place of an older
        one, would leave its window later and let one request too many in. ``None`` (a
        refused, degraded or peeked decision): nothing was counted, nothing is given back."""
        if receipt is None or receipt.spent:
            return
        receipt.spent = True
        key, _ = _unpack(entity)
        try:
            self._ask(self.backend.refund, key, receipt.data, cost=receipt.cost)
        except LimiterUnavailable as exc:
            self._warn(exc)

    def reset(self, entity: RateLimitedEntity) -> None:
        """Forget everything counted for ``entity`` (raises :class:`LimiterUnavailable`)."""
        key, rules = _unpack(entity)
        self._ask(self.backend.reset, key, rules)

    def write(self, values: Mapping[str, str], *, ttl: int, only_if_absent: bool = False) -> dict[str, bool]:
        """Store caller values where ``check(..., reads=...)`` reads them (raises
        :class:`LimiterUnavailable`: writes never fail open)."""
        for name in values:
            keys.check_tagged(name)
        return self._tell(self.backend.write, values, ttl=ttl, only_if_absent=only_if_absent)

    def read(self, names: Sequence[str]) -> dict[str, Any]:
        """Caller values (tagged keys, of one entity or several), counting nothing (raises
        :class:`LimiterUnavailable`)."""
        for name in names:
            keys.check_tagged(name)
        return self._ask(self.backend.read, names)

    def delete(self, names: Sequence[str]) -> None:
        """Remove caller values (raises :class:`LimiterUnavailable`)."""
        for name in names:
            keys.check_tagged(name)
        self._tell(self.backend.delete, names)

    def _ask(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``call`` to the store, unless the breaker says it would only wait and fail."""
        self._breaker.enter()
        return self._tell(call, *args, **kwargs)

    def _tell(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``call`` to the store even while the breaker is open: writes and deletes carry key
        changes (a revocation), which always try, at the cost of one timeout at most; an
        answer closes the breaker."""
        started = time.monotonic()
        try:
            answer = call(*args, **kwargs)
        except LimiterUnavailable as exc:
            self._breaker.failed(started, exc)
            raise
        self._breaker.passed()
        return answer

    def _answer(self, sent: Sent) -> Decision:
        """The answer of a check sent ahead; dropped unread while the store is not asked."""
        try:
            return self._ask(sent.result)
        except LimiterUnavailable:
            sent.abandon()  # not read yet if the breaker refused (once read: nothing to do)
            raise

    def _outage(
        self, exc: LimiterUnavailable, rules: Sequence[Rule], now: float | None, reads: Sequence[str]
    ) -> Decision:
        fail_open = (
            self._fail_open if self._fail_open is not None else getattr(settings, "TATER_RATELIMIT_FAIL_OPEN", True)
        )
        if not fail_open and not _admitting.get():
            raise exc
        self._warn(exc)
        return degraded_decision(rules, time.time() if now is None else now, reads)

    def _warn(self, exc: Exception) -> None:
        t = time.monotonic()
        with self._warn_lock:
            if t < self._next_warning:
                return
            self._next_warning = t + WARN_INTERVAL
        logger.warning("rate-limit store unavailable (fail-open: requests admitted uncounted): %s", exc)


_admitting: ContextVar[bool] = ContextVar("tater_limiter_admitting_on_outage", default=False)


def admitting_on_outage(admit: bool = True) -> AbstractContextManager[None]:
    """Within the block (when ``admit``), an outage admits uncounted, a degraded decision,
    whatever ``TATER_RATELIMIT_FAIL_OPEN`` says: for the requests that must get through
    whatever the store does, such as revoking a leaked key. Otherwise a block that does
    nothing (every key request passes here: nothing is set for it)."""
    return _admitting_block() if admit else _NOT_ADMITTING


_NOT_ADMITTING = nullcontext()  # holds nothing: one serves every block


@contextmanager
def _admitting_block() -> Iterator[None]:
    token = _admitting.set(True)
    try:
        yield
    finally:
        _admitting.reset(token)


def _unpack(entity: RateLimitedEntity) -> tuple[str, tuple[Rule, ...]]:
    key, rules = entity.key(), tuple(entity.rules())
    keys.check_entity_key(key)
    return key, rules


def backend_from_settings() -> RateLimiterBackend:
    """The backend the settings name (see the module docstring)."""
    name = getattr(settings, "TATER_RATELIMIT_BACKEND", "") or (
        "redis" if getattr(settings, "REDIS_URL", "") else "inprocess"
    )
    rolling = int(getattr(settings, "TATER_RATELIMIT_ROLLING_MAX_SECONDS", DEFAULT_ROLLING_MAX_SECONDS))
    alias = getattr(settings, "TATER_RATELIMIT_CACHE", "default")
    if name == "redis":
        return RedisBackend(rolling_max_seconds=rolling)
    if name == "cache":
        return CacheBackend(alias, rolling_max_seconds=rolling)
    if name == "inprocess":
        return InProcessBackend(rolling_max_seconds=rolling, cache_alias=alias)
    raise ValueError(f"TATER_RATELIMIT_BACKEND must be 'redis', 'cache' or 'inprocess', got {name!r}")


_lock = threading.Lock()
_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    """The process-wide limiter, its backend chosen once from settings."""
    global _limiter
    limiter = _limiter
    if limiter is None:
        with _lock:
            if _limiter is None:
                _limiter = Limiter(backend_from_settings())
            limiter = _limiter
    return limiter


def reset_limiter() -> None:
    """Forget the process-wide limiter (settings changed); the next use builds a new one."""
    global _limiter
    with _lock:
        _limiter = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in SETTINGS:
        reset_limiter()


def check(entity: RateLimitedEntity, *, reads: Sequence[str] = (), cost: int = 1, now: float | None = None) -> Decision:
    """:meth:`Limiter.check` on the process-wide limiter: the one decision function."""
    return get_limiter().check(entity, reads=reads, cost=cost, now=now)


def peek(entity: RateLimitedEntity, *, reads: Sequence[str] = (), now: float | None = None) -> Decision:
    return get_limiter().peek(entity, reads=reads, now=now)


def refund(entity: RateLimitedEntity, receipt: Receipt | None) -> None:
    get_limiter().refund(entity, receipt)


def reset(entity: RateLimitedEntity) -> None:
    get_limiter().reset(entity)
