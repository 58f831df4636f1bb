"""Per-key usage bookkeeping, with no database write per request.

- ``last_used_at``/``last_used_ip`` are kept current to within a minute: a process-local
  memo skips the shared cache on most requests, and a shared-cache ``add`` lets exactly
  one request per key per minute (across every worker) write the row.
- Requests and errors per key per hour are counted in cache counters by
  ``tater.ratelimit`` (in the same round trip as the rate limit) and moved into
  ``KeyUsageHourly`` in batches by ``flush()``: run by the ``flush_key_usage`` command and
  opportunistically by a request at most every ``TATER_USAGE_FLUSH_INTERVAL`` seconds
  (one process at a time across the cluster). Rows older than
  ``TATER_USAGE_RETENTION_DAYS`` are pruned on each flush.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apikeys.principal import KeyPrincipal
from tater import ratelimit

logger = logging.getLogger("tater.usage")

LAST_USED_INTERVAL = 60
# Hours whose cache counters are still read: the counters' lifetime.
PENDING_HOURS = ratelimit.USAGE_TTL // ratelimit.HOUR
FLUSH_LOCK = "usage:flush:lock"
FLUSH_RECENT = "usage:flush:recent"
MAX_HOURS = 90 * 24

_local_next_write: dict[int, float] = {}
_next_flush: list[float | None] = [None]


def touch(principal: KeyPrincipal, ip: str) -> None:
    now = time.monotonic()
    if _local_next_write.get(principal.pk, 0.0) > now:
        return
    _local_next_write[principal.pk] = now + LAST_USED_INTERVAL
    if not cache.add(f"apikey:lastused:{principal.pk}", 1, LAST_USED_INTERVAL):
        return
    from apikeys.models import ApiKey

    ApiKey.objects.filter(pk=principal.pk).update(last_used_at=timezone.now(), last_used_ip=ip or None)


def reset_local_memo() -> None:
    """For tests: forget this process's last-write times, usage index, flush schedule,
    verified principals (apikeys.principal) and in-process counters (tater.ratelimit)."""
    from apikeys import principal

    _local_next_write.clear()
    ratelimit._indexed.clear()
    _next_flush[0] = None
    principal.reset_memo()
    ratelimit.reset_local_counters()


def _hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * ratelimit.HOUR, tz=UTC)


def _pending(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """Unflushed (requests, errors) in the cache for each (key pk, hour)."""
    names = {pair: ratelimit.usage_keys(*pair) for pair in pairs}
    values = ratelimit.read_counters([name for both in names.values() for name in both])
    out = {}
    for pair, (req_key, err_key) in names.items():
        counts = (int(values.get(req_key) or 0), int(values.get(err_key) or 0))
        if counts != (0, 0):
            out[pair] = counts
    return out


@dataclass(frozen=True)
class FlushResult:
    flushed: bool  # False when another process was flushing
    rows: int = 0
    requests: int = 0
    errors: int = 0
    pruned: int = 0


def flush() -> FlushResult:
    """Move the cache counters into ``KeyUsageHourly`` and prune old rows.

    Counters are claimed by decrementing them by what was read (requests that land
    meanwhile are kept for the next flush) and given back if the database write fails.
    One flush at a time cluster-wide (a cache lock).
    """
    if not cache.add(FLUSH_LOCK, 1, 300):
        return FlushResult(flushed=False)
    try:
        return _flush()
    finally:
        cache.delete(FLUSH_LOCK)


def _flush() -> FlushResult:
    from apikeys.models import ApiKey, KeyUsageHourly

    current = int(ratelimit.now() // ratelimit.HOUR)
    members = ratelimit.index_members(list(range(current - PENDING_HOURS + 1, current + 1)))
    pending = _pending([(pk, hour) for hour, pks in members.items() for pk in pks])
    rows: list[KeyUsageHourly] = []
    if pending:
        claims = [
            (name, -value, ratelimit.USAGE_TTL)
            for pair, counts in pending.items()
            for name, value in zip(ratelimit.usage_keys(*pair), counts, strict=True)
            if value
        ]
        ratelimit.incr_counters(claims)
        try:
            rows = _write(pending, ApiKey, KeyUsageHourly)
        except Exception:
            ratelimit.incr_counters([(name, -delta, ttl) for name, delta, ttl in claims])
            raise
    # Hours two or more behind can no longer be counted into: forget their index.
    ratelimit.drop_index([hour for hour in members if hour < current - 1])
    cutoff = _hour_start(current) - timedelta(days=settings.TATER_USAGE_RETENTION_DAYS)
    pruned, _ = KeyUsageHourly.objects.filter(hour__lt=cutoff).delete()
    return FlushResult(
        flushed=True,
        rows=len(rows),
        requests=sum(r for r, _ in pending.values()),
        errors=sum(e for _, e in pending.values()),
        pruned=pruned,
    )


def _write(pending: dict[tuple[int, int], tuple[int, int]], api_key_model: type, usage_model: type) -> list:
    live = set(api_key_model.objects.filter(pk__in={pk for pk, _ in pending}).values_list("pk", flat=True))
    wanted = {(pk, _hour_start(hour)): counts for (pk, hour), counts in pending.items() if pk in live}
    existing = {
        (row.key_id, row.hour): row
        for row in usage_model.objects.filter(key_id__in=live, hour__in={at for _, at in wanted})
    }
    rows = []
    for (pk, at), (requests, errors) in wanted.items():
        old = existing.get((pk, at))
        rows.append(
            usage_model(
                key_id=pk,
                hour=at,
                requests=requests + (old.requests if old else 0),
                errors=errors + (old.errors if old else 0),
            )
        )
    with transaction.atomic():
        usage_model.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["key", "hour"],
            update_fields=["requests", "errors"],
            batch_size=500,
        )
    return rows


def maybe_flush() -> None:
    """Opportunistic flush from the request path: at most once per interval per process,
    and only one process per interval across the cluster."""
    due = _next_flush[0]
    t = time.monotonic()
    if due is not None and t < due:
        return  # the common case: not due (the interval is read only when it may be)
    interval = settings.TATER_USAGE_FLUSH_INTERVAL
    if not interval:
        return
    if due is None:
        _next_flush[0] = t + interval
        return
    _next_flush[0] = t + interval
    if not cache.add(FLUSH_RECENT, 1, interval):
        return
    try:
        flush()
    except Exception:
        logger.exception("Flushing key usage failed; the counters stay in the cache for the next flush")


@dataclass(frozen=True)
class Bucket:
    hour: datetime
    requests: int
    errors: int


def usage_buckets(*, key_pk: int, hours: int) -> list[Bucket]:
    """One bucket per hour for the last ``hours`` hours (current hour included), from the
    flushed rows plus what still waits in the cache."""
    from apikeys.models import KeyUsageHourly

    hours = max(1, min(hours, MAX_HOURS))
    current = int(ratelimit.now() // ratelimit.HOUR)
    first = current - hours + 1
    counts: dict[int, list[int]] = {h: [0, 0] for h in range(first, current + 1)}
    for at, requests, errors in KeyUsageHourly.objects.filter(key_id=key_pk, hour__gte=_hour_start(first)).values_list(
        "hour", "requests", "errors"
    ):
        hour = int(at.timestamp()) // ratelimit.HOUR
        if hour in counts:
            counts[hour][0] += requests
            counts[hour][1] += errors
    pending_from = max(first, current - PENDING_HOURS + 1)
    for (_, hour), (requests, errors) in _pending([(key_pk, h) for h in range(pending_from, current + 1)]).items():
        counts[hour][0] += requests
        counts[hour][1] += errors
    return [Bucket(_hour_start(h), c[0], c[1]) for h, c in sorted(counts.items())]
