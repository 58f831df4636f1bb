"""Usage-limited keys (Unkey's "remaining", SPEC §14): at most ``usage_limit`` requests per
refill period (none, a UTC day, a UTC calendar month), exact across processes on Redis.

One counter per key and period in the default cache: ``add`` creates it, ``incr`` takes a
use atomically, and a request that lands above the limit gives its use straight back and is
refused (429 ``USAGE_EXHAUSTED``). However many requests race, never more than the limit are
admitted; one racing a refused request may be refused too. The counter expires with its
period, a day's at the end of its month: a change from a daily to a monthly refill counts
every day of the month (:func:`carry`). Counted after permissions and the rate limit: a request refused by either does not
use the key up; nor does one answered with a server error (5xx: :func:`give_back_on_server_error`,
a response hook). In the embedded default (in-process cache) each process counts alone; on a
Redis that loses its data the period starts afresh (documented in the README).
"""

from __future__ import annotations

import calendar
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache

from tater.api.errors import ApiError
from tater.limiter.counters import decr_counter, incr_counter
from tater.timestamps import iso_utc

logger = logging.getLogger(__name__)

DAY = 86_400
NEVER = None  # a period without refill never ends


@dataclass(frozen=True, slots=True)
class Uses:
    limit: int
    used: int
    refill: str
    resets_at: datetime | None  # None: no refill
    counter: str = ""  # the cache counter the use was taken from ("": none taken, a read)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def as_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "refill": self.refill or None,
            "resets_at": iso_utc(self.resets_at) if self.resets_at else None,
        }


class UsageExhausted(ApiError):
    status_code = 429
    code = "USAGE_EXHAUSTED"

    def __init__(self, uses: Uses) -> None:
        headers = {}
        details: dict[str, Any] = {"limit": uses.limit, "refill": uses.refill or None}
        if uses.resets_at is not None:
            wait = max(1, math.ceil(uses.resets_at.timestamp() - time.time()))
            headers["Retry-After"] = str(wait)
            details["resets_at"] = iso_utc(uses.resets_at)
        super().__init__("This API key has used all of its allowed requests", details=details, headers=headers)


def period(refill: str, t: float) -> tuple[int, float | None]:
    """(start, end) of the refill period holding instant ``t`` (epoch seconds, UTC)."""
    if refill == "daily":
        start = int(t // DAY) * DAY
        return start, float(start + DAY)
    if refill == "monthly":
        now = datetime.fromtimestamp(t, tz=UTC)
        month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
        days = calendar.monthrange(now.year, now.month)[1]
        return int(month_start.timestamp()), month_start.timestamp() + days * DAY
    return 0, NEVER


def _counter(key_pk: int, refill: str, t: float) -> tuple[str, float | None]:
    start, end = period(refill, t)
    return f"apikey:uses:{key_pk}:{refill or 'total'}:{start}", end


def _timeout(end: float | None, t: float) -> int | None:
    return None if end is None else max(1, math.ceil(end - t)) + 60


def _kept(refill: str, t: float) -> int | None:
    """How long the counter of ``refill``'s period holding ``t`` is kept: to its period's end;
    a day's to its month's end, for :func:`carry` to count the month of a key made monthly."""
    return _timeout(period("monthly" if refill == "daily" else refill, t)[1], t)


def _days_of_month(key_pk: int, t: float) -> list[str]:
    """The daily counters of the month holding ``t``, from its 1st to the day of ``t``."""
    start, _ = period("monthly", t)
    return [f"apikey:uses:{key_pk}:daily:{day}" for day in range(start, int(t // DAY) * DAY + 1, DAY)]


def consume(key_pk: int, limit: int, refill: str) -> Uses:
    """Take one use, or raise :class:`UsageExhausted` (nothing taken)."""
    t = time.time()
    name, end = _counter(key_pk, refill, t)
    used = incr_counter(cache, name, timeout=_kept(refill, t))
    resets = datetime.fromtimestamp(end, tz=UTC) if end is not None else None
    if used > limit:
        decr_counter(cache, name)
        raise UsageExhausted(Uses(limit, limit, refill, resets))
    return Uses(limit, used, refill, resets, counter=name)


def give_back_on_server_error(request: Any, response: Any) -> None:
    """A ``TATER_API_RESPONSE_HOOKS`` entry: a request answered with a 5xx gives back the use
    it took (a decision, README: an integrator retrying through an outage must not find its
    budget spent on answers it never got). To the counter it was taken from, so a request
    that straddles a refill frees nothing of the new period. Best effort: a cache that is down
    keeps the use (the answer is an error already)."""
    rate = getattr(getattr(request, "_request", request), "rate_limit", None)
    taken: Uses | None = getattr(rate, "uses", None)
    if rate is None or taken is None or not taken.counter or response.status_code < 500:
        return
    rate.uses = None  # given back once
    try:
        decr_counter(cache, taken.counter)
    except Exception:  # noqa: BLE001 - an error answer already; a lost give-back only costs a use
        logger.warning("A use of key %s could not be given back after a server error", taken.counter)


def carry(key_pk: int, old_refill: str, new_refill: str) -> Callable[[], None]:
    """A refill change keeps what the key used (counters are named by period: the change
    would otherwise start an exhausted key afresh). Called in the change's transaction,
    before it is published: the new refill's counter starts with the old one's count; a daily
    refill made monthly, with every day of the month's (the new limit holds for the month it
    is set in). What the new counter held from an earlier limit with that refill (a lifetime
    count, which never expires, from before the key refilled) is replaced, not kept when
    larger: no process counts on it until the change is published (adjusted by a delta, so a
    stray count meanwhile is kept). Returns what to run once the change is committed: it adds
    what the old counter counted meanwhile (requests of processes that had not seen the
    change). Frees no use of the period the change is made in."""
    if old_refill == new_refill:
        return lambda: None
    t = time.time()
    old_names = _days_of_month(key_pk, t) if (old_refill, new_refill) == ("daily", "monthly") else []
    old_names = old_names or [_counter(key_pk, old_refill, t)[0]]
    used = _sum(old_names)
    name, _ = _counter(key_pk, new_refill, t)
    timeout = _kept(new_refill, t)
    missing = used - incr_counter(cache, name, 0, timeout=timeout)
    if missing:
        incr_counter(cache, name, missing, timeout=timeout)
    if new_refill == "daily":
        # Today's counter now holds the month's count: the month's earlier days, counted in it,
        # must not be counted again by a later change back to monthly.
        cache.delete_many(_days_of_month(key_pk, t)[:-1])

    def meanwhile() -> None:
        grown = _sum(old_names) - used
        if grown > 0:
            incr_counter(cache, name, grown, timeout=timeout)

    return meanwhile


def _sum(names: list[str]) -> int:
    return sum(int(n or 0) for n in cache.get_many(names).values())


def start_afresh(key_pk: int, refill: str) -> None:
    """A limit set on a key that had none starts with every use available: the count left
    from an earlier limit (kept for ever without a refill; a daily one's days of this month,
    which a change to monthly would count) is dropped. Called in the change's transaction,
    before it is published: until then no process counts the key."""
    t = time.time()
    cache.delete_many(_days_of_month(key_pk, t) if refill == "daily" else [_counter(key_pk, refill, t)[0]])


def current(key_pk: int, limit: int | None, refill: str) -> Uses | None:
    """The key's uses in the current period (None for a key without a limit)."""
    if limit is None:
        return None
    t = time.time()
    name, end = _counter(key_pk, refill, t)
    return _read(limit, cache.get(name), refill, end)


def current_many(keys: Iterable[Any]) -> dict[int, Uses]:
    """:func:`current` of several keys (ApiKey rows) in one cache read (a list page: one
    round trip to Redis, not one per key), by key pk; keys without a limit are left out."""
    t = time.time()
    counters: dict[str, tuple[int, int, str, float | None]] = {}
    for key in keys:
        if key.usage_limit is not None:
            name, end = _counter(key.pk, key.usage_refill, t)
            counters[name] = (key.pk, key.usage_limit, key.usage_refill, end)
    found = cache.get_many(list(counters)) if counters else {}
    return {pk: _read(limit, found.get(name), refill, end) for name, (pk, limit, refill, end) in counters.items()}


def _read(limit: int, counted: Any, refill: str, end: float | None) -> Uses:
    """Uses from a counter's stored value (None: nothing counted this period)."""
    return Uses(
        limit, min(int(counted or 0), limit), refill, datetime.fromtimestamp(end, tz=UTC) if end is not None else None
    )
