"""Per-key usage bookkeeping, with no database write per request.

- ``last_used_at``/``last_used_ip``, each secret's last use during a rotation's grace
  period and the last 5 distinct client addresses are kept current to within a minute: a
  process-local memo skips the shared store on most requests, and a mark set if absent in
  the limiter's store (read by the key check in its round trip, so another process's mark
  costs nothing) lets one request per key, address and secret per minute (across every
  worker) write the row, at most 60 times a minute per key and secret (``ROW_WRITES``).
- Requests and errors per key per hour are counted in this process (``record``: a dict
  increment under a lock) and added to ``KeyUsageHourly`` by ``flush()``: from the request
  path at most every ``TATER_USAGE_FLUSH_INTERVAL`` seconds (0: never) and when the process
  exits; ``manage.py flush_key_usage`` prunes rows older than
  ``TATER_USAGE_RETENTION_DAYS``. Rows are incremented in the database (``F()``), so any
  number of processes add up. A process killed without exiting loses at most one
  interval of its counts; the chart is a usage report, not a bill.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apikeys.limits import entity_key
from apikeys.principal import KeyPrincipal
from tater import limiter
from tater.limiter import Entity, LimiterUnavailable, Rule, keys

logger = logging.getLogger("tater.usage")

HOUR = 3600
LAST_USED_INTERVAL = 60
RECENT_IPS = 5
ROW_WRITES = [Rule(60, 60)]  # per key and secret, a minute
MAX_HOURS = 90 * 24

_local_next_write: dict[tuple[int, str, bool], float] = {}  # (key, address, old secret?) → next write
_lock = threading.Lock()
_pending: dict[tuple[int, int], list[int]] = {}  # (key pk, hour) → [requests, errors]
_next_flush: list[float | None] = [None]


def touch(principal: KeyPrincipal, ip: str, *, seen: bool | None = None) -> None:
    """Keep ``last_used_at``/``_ip``, each secret's last use and the last 5 distinct client
    addresses current to within a minute: at most one row write per key, address and secret
    per minute across every process (a process-local memo, then a shared mark in the
    limiter's store, set if absent). ``seen``: the key check read that mark in its round
    trip (True: another process wrote this minute; None: not read)."""
    if not due(principal, ip):
        return
    if len(_local_next_write) > 100_000:
        _local_next_write.clear()
    _local_next_write[(principal.pk, ip, principal.matched_previous)] = time.monotonic() + LAST_USED_INTERVAL
    if seen:
        return
    gate = gate_name(principal.digest, ip, previous=principal.matched_previous)
    try:
        claimed = limiter.get_limiter().write({gate: "1"}, ttl=LAST_USED_INTERVAL, only_if_absent=True)[gate]
    except LimiterUnavailable:
        claimed = True  # the store is down: this process's memo still bounds the writes
    if claimed and _row_write_allowed(principal):
        _write_use(principal.pk, ip, previous_secret=principal.matched_previous)


def _row_write_allowed(principal: KeyPrincipal) -> bool:
    """At most ``ROW_WRITES`` of one key's row per secret across every process: the agents of
    an RMM tool share one key from thousands of addresses, and one write (and row lock) per new
    address and minute would queue them all on that row. Beyond it an address's use this
    minute is not written (the last 5 of thousands of addresses say little anyway). Each
    secret has its own budget: during a rotation's grace a fleet on the new secret must not
    hide that a straggler still uses the old one."""
    entity = Entity(f"key-row:{principal.digest}:{int(principal.matched_previous)}", ROW_WRITES)
    try:
        decision = limiter.get_limiter().check(entity)
    except LimiterUnavailable:
        return True  # the store is down: this process's memo still bounds the writes
    return decision.admitted or decision.degraded


def due(principal: KeyPrincipal, ip: str) -> bool:
    """Whether this process may have to write this key's, address's and secret's use now."""
    return _local_next_write.get((principal.pk, ip, principal.matched_previous), 0.0) <= time.monotonic()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "TATER_RATELIMIT_KEY_PREFIX":
        gate_name.cache_clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="apikeys.usage.gate_names")


@lru_cache(maxsize=65_536)
def gate_name(digest: str, ip: str, *, previous: bool) -> str:
    """The shared mark that a secret of the key whose current secret is ``digest`` was used
    from ``ip`` this minute: in the key's slot of the limiter's store, so the key check can
    read it in the round trip that counts the request."""
    address = hashlib.sha256(ip.encode()).hexdigest()[:16]
    return keys.tagged(entity_key(digest), f"used:{address}:{int(previous)}")


def _write_use(key_pk: int, ip: str, *, previous_secret: bool) -> None:
    from apikeys.models import ApiKey

    at = timezone.now()
    with transaction.atomic():
        row = ApiKey.objects.select_for_update().filter(pk=key_pk).values_list("recent_ips", flat=True).first()
        if row is None:
            return
        recent = [entry for entry in (row or []) if entry.get("ip") != ip]
        if ip:
            recent.insert(0, {"ip": ip, "last_seen": at.isoformat()})
        fields: dict[str, object] = {"last_used_at": at, "last_used_ip": ip or None, "recent_ips": recent[:RECENT_IPS]}
        fields["previous_last_used_at" if previous_secret else "current_last_used_at"] = at
        # update(): no receivers, so the key's verified principal stays memoized.
        ApiKey.objects.filter(pk=key_pk).update(**fields)


def record(key_pk: int, *, requests: int = 1, errors: int = 0) -> None:
    """Count a key's requests/errors for the current hour (in this process)."""
    hour = int(time.time() // HOUR)
    with _lock:
        counts = _pending.get((key_pk, hour))
        if counts is None:
            _pending[(key_pk, hour)] = [requests, errors]
        else:
            counts[0] += requests
            counts[1] += errors


def reset_local_memo() -> None:
    """For tests: forget this process's last-write times, pending counts and flush schedule."""
    _local_next_write.clear()
    with _lock:
        _pending.clear()
    _next_flush[0] = None


def _hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR, tz=UTC)


@dataclass(frozen=True)
class FlushResult:
    flushed: bool
    rows: int = 0
    requests: int = 0
    errors: int = 0
    pruned: int = 0


def flush(*, prune: bool = True) -> FlushResult:
    """Add this process's pending counts to ``KeyUsageHourly`` (and prune old rows).

    Counts are taken out under the lock and put back if the database write fails."""
    with _lock:
        taken = dict(_pending)
        _pending.clear()
    try:
        rows = _write(taken)
    except Exception:
        with _lock:
            for pair, (requests, errors) in taken.items():
                counts = _pending.setdefault(pair, [0, 0])
                counts[0] += requests
                counts[1] += errors
        raise
    pruned = 0
    if prune:
        from apikeys.models import KeyUsageHourly

        cutoff = _hour_start(int(time.time() // HOUR)) - timedelta(days=settings.TATER_USAGE_RETENTION_DAYS)
        pruned, _ = KeyUsageHourly.objects.filter(hour__lt=cutoff).delete()
    return FlushResult(
        flushed=True,
        rows=rows,
        requests=sum(r for r, _ in taken.values()),
        errors=sum(e for _, e in taken.values()),
        pruned=pruned,
    )


def _write(taken: dict[tuple[int, int], list[int]]) -> int:
    from apikeys.models import ApiKey, KeyUsageHourly

    if not taken:
        return 0
    live = set(ApiKey.objects.filter(pk__in={pk for pk, _ in taken}).values_list("pk", flat=True))
    rows = 0
    for (pk, hour), (requests, errors) in taken.items():
        if pk not in live or not (requests or errors):
            continue
        at = _hour_start(hour)
        rows += 1
        with transaction.atomic():
            matched = KeyUsageHourly.objects.filter(key_id=pk, hour=at).update(
                requests=F("requests") + requests, errors=F("errors") + errors
            )
            if matched:
                continue
            try:
                with transaction.atomic():
                    KeyUsageHourly.objects.create(key_id=pk, hour=at, requests=requests, errors=errors)
            except IntegrityError:  # another process created the row meanwhile
                KeyUsageHourly.objects.filter(key_id=pk, hour=at).update(
                    requests=F("requests") + requests, errors=F("errors") + errors
                )
    return rows


def maybe_flush() -> None:
    """From the request path: at most once per ``TATER_USAGE_FLUSH_INTERVAL`` per process."""
    due = _next_flush[0]
    t = time.monotonic()
    if due is not None and t < due:
        return  # the common case
    interval = settings.TATER_USAGE_FLUSH_INTERVAL
    if not interval:
        return
    _next_flush[0] = t + interval
    if due is None:
        return  # the first request only starts the clock
    try:
        flush(prune=False)
    except Exception:
        logger.exception("Flushing key usage failed; the counts stay in this process for the next flush")


@atexit.register
def _flush_at_exit() -> None:
    if not _pending:
        return
    try:
        flush(prune=False)
    except Exception:  # the database may be gone already: nothing more to do
        logger.warning("key usage of this process could not be saved at exit")


@dataclass(frozen=True)
class Bucket:
    hour: datetime
    requests: int
    errors: int


def usage_buckets(*, key_pk: int, hours: int) -> list[Bucket]:
    """One bucket per hour for the last ``hours`` hours (current hour included), from the
    saved rows plus what this process has not saved yet."""
    from apikeys.models import KeyUsageHourly

    hours = max(1, min(hours, MAX_HOURS))
    current = int(time.time() // HOUR)
    first = current - hours + 1
    counts: dict[int, list[int]] = {h: [0, 0] for h in range(first, current + 1)}
    for at, requests, errors in KeyUsageHourly.objects.filter(key_id=key_pk, hour__gte=_hour_start(first)).values_list(
        "hour", "requests", "errors"
    ):
        hour = int(at.timestamp()) // HOUR
        if hour in counts:
            counts[hour][0] += requests
            counts[hour][1] += errors
    with _lock:
        waiting = [(hour, c[0], c[1]) for (pk, hour), c in _pending.items() if pk == key_pk and hour in counts]
    for hour, requests, errors in waiting:
        counts[hour][0] += requests
        counts[hour][1] += errors
    return [Bucket(_hour_start(h), c[0], c[1]) for h, c in sorted(counts.items())]
