"""API rate limits (SPEC §6) and the one counting mechanism behind limits, lockouts and usage.

Limits apply per API key (per user and tenant for browser sessions), per minute and per
hour by tenant plan (``TATER_PLAN_RATE_LIMITS``), plus a key's optional stricter override
(``"5/min"``, ``"1000/hour"``, ``"5/60s"``). They are enforced by ``ApiRateThrottle``, the
DRF default throttle: it runs after authentication and ``ScopedPermission``, so the caller's
tenant is already resolved and requests refused earlier (bad credentials, which the lockout
counts instead; missing scope) never consume quota.

Counting uses fixed windows aligned to the epoch, one cache counter per window, in the
Django cache so it holds across processes when the cache is shared:

- on django-redis, one Lua script per request checks every window, increments them only
  if all admit the request (a refused request consumes nothing), and counts the key's
  usage: one round trip, atomic, so never more than the limit is admitted across workers;
- on any other backend (the embedded locmem cache), each counter is incremented atomically
  (``incr``, ``add`` on first use) and rolled back when a window refuses: never
  over-admits, at worst refuses a request that raced a refused one.

``finish()`` (called from ``TaterAPIView.finalize_response``) writes the
``X-RateLimit-*`` headers of the tightest window and counts error responses.
"""

from __future__ import annotations

import logging
import math
import pickle  # noqa: S403 - LocMemCache's own value format, never external data
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apikeys.principal import KeyPrincipal
from tater import faults
from tater.api.errors import ApiError

logger = logging.getLogger("tater.ratelimit")

HOUR = 3600
# Usage counters wait this long in the cache for a flush (flush_key_usage or opportunistic).
USAGE_TTL = 48 * HOUR
# Window counters outlive their window a little, so a late reader still sees the count.
WINDOW_GRACE = 5


def now() -> float:
    """The clock of every window and lockout (tests patch this)."""
    return time.time()


# --- The counting store -------------------------------------------------------------

# One script for every counter update of a request: check the windows, increment them only
# if all admit, add the plain increments, list the key in the usage index. KEYS: n window
# counters, m plain counters, then optionally the index set. ARGV: n, m, (limit, ttl) per
# window, (delta, ttl) per plain counter, then (member, ttl) for the index.
_APPLY_LUA = b"""
local n, m = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
local admitted = 1
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[i]) or 0)
  out[i] = c
  if c >= tonumber(ARGV[1 + 2 * i]) then admitted = 0 end
end
if admitted == 1 then
  for i = 1, n do
    out[i] = redis.call('INCR', KEYS[i])
    if out[i] == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 + 2 * i]) end
  end
end
local base = 2 + 2 * n
for j = 1, m do
  local delta = tonumber(ARGV[base + 2 * j - 1])
  local v = redis.call('INCRBY', KEYS[n + j], delta)
  if v == delta then redis.call('EXPIRE', KEYS[n + j], ARGV[base + 2 * j]) end
  out[n + j] = v
end
if #KEYS > n + m then
  local set = KEYS[n + m + 1]
  if redis.call('SADD', set, ARGV[base + 2 * m + 1]) == 1 then redis.call('EXPIRE', set, ARGV[base + 2 * m + 2]) end
end
table.insert(out, 1, admitted)
return out
"""


@lru_cache(maxsize=1)
def _script() -> Any:
    from redis.commands.core import Script

    # A bytes script needs no client to hash; each call passes the connection to use.
    return Script(None, _APPLY_LUA)  # type: ignore[arg-type]


def _cache() -> Any:
    return caches["default"]


def _redis(backend: Any) -> Any | None:
    """The raw redis client behind a django-redis backend, else None."""
    if not type(backend).__module__.startswith("django_redis"):
        return None
    return backend.client.get_client(write=True)


def _is_locmem(backend: Any) -> bool:
    return isinstance(backend, LocMemCache) and hasattr(backend, "_has_expired") and hasattr(backend, "_set")


def _incr_generic(backend: Any, key: str, delta: int, ttl: int) -> int:
    """Atomic add-then-incr with the plain cache API."""
    try:
        return int(backend.incr(key, delta))
    except ValueError:
        if backend.add(key, delta, ttl):
            return delta
        return int(backend.incr(key, delta))


def _unpickle(value: bytes) -> int:
    return int(pickle.loads(value))  # noqa: S301  # nosec B301 - bytes this process's own LocMemCache pickled


def _apply_locmem(
    backend: Any, windows: Sequence[tuple[str, int, int]], increments: Sequence[tuple[str, int, int]]
) -> tuple[bool, list[int], list[int]]:
    """The script's semantics on LocMemCache's own storage: a few dict operations under
    the cache's lock, so check-and-increment is exact for every thread of the process
    (and the cache is per process)."""
    data, expired, make_key, protocol = backend._cache, backend._has_expired, backend.make_key, backend.pickle_protocol
    dumps, store = pickle.dumps, backend._set
    window_keys = [make_key(k) for k, _, _ in windows]
    counts: list[int] = []
    values: list[int] = []
    with backend._lock:
        admitted = True
        for i, key in enumerate(window_keys):
            count = 0 if expired(key) else _unpickle(data[key])
            counts.append(count)
            admitted = admitted and count < windows[i][1]
        if admitted:
            for i, key in enumerate(window_keys):
                counts[i] += 1
                if counts[i] == 1:
                    store(key, dumps(1, protocol), windows[i][2])
                else:  # keep the expiry, as incr() does; mark recently used against culling
                    data[key] = dumps(counts[i], protocol)
                    data.move_to_end(key, last=False)
        for name, delta, ttl in increments:
            key = make_key(name)
            if expired(key):
                store(key, dumps(delta, protocol), ttl)
                values.append(delta)
            else:
                value = _unpickle(data[key]) + delta
                data[key] = dumps(value, protocol)
                data.move_to_end(key, last=False)
                values.append(value)
    return admitted, counts, values


def _apply_generic(
    backend: Any, windows: Sequence[tuple[str, int, int]], increments: Sequence[tuple[str, int, int]]
) -> tuple[bool, list[int], list[int]]:
    """Any other shared cache: increment, then roll back if a window refuses. Never
    over-admits; at worst refuses a request that raced a refused one."""
    counts = [_incr_generic(backend, k, 1, ttl) for k, _, ttl in windows]
    admitted = all(c <= limit for c, (_, limit, _) in zip(counts, windows, strict=True))
    if not admitted:
        for k, _, _ in windows:
            backend.decr(k)
        counts = [c - 1 for c in counts]
    values = [_incr_generic(backend, k, delta, ttl) for k, delta, ttl in increments]
    return admitted, counts, values


# Process memo of (key pk, hour) already listed in the cache's usage index (not Redis).
_indexed: set[tuple[int, int]] = set()


def _apply(
    windows: Sequence[tuple[str, int, int]] = (),
    increments: Sequence[tuple[str, int, int]] = (),
    index: tuple[int, int] | None = None,
) -> tuple[bool, list[int], list[int]]:
    """Every counter update of one request, atomically, in one round trip on Redis.

    ``windows``: ``(key, limit, ttl)`` counters incremented only if each is below its
    limit (returns whether they were, and their counts); ``increments``: ``(key, delta,
    ttl)`` counters always added to (returns their values); ``index``: ``(key pk, hour)``
    to list in the usage index.
    """
    backend = _cache()
    client = _redis(backend)
    if client is not None:
        keys = [backend.make_key(k) for k, _, _ in (*windows, *increments)]
        args: list[Any] = [len(windows), len(increments)]
        for item in (*windows, *increments):
            args += [item[1], item[2]]
        if index is not None:
            keys.append(backend.make_key(usage_index_key(index[1])))
            args += [index[0], USAGE_TTL]
        result = [int(v) for v in _script()(keys=keys, args=args, client=client)]
        return result[0] == 1, result[1 : 1 + len(windows)], result[1 + len(windows) :]
    apply = _apply_locmem if _is_locmem(backend) else _apply_generic
    outcome = apply(backend, windows, increments)
    if index is not None:
        _index_generic(backend, *index)
    return outcome


def incr_counters(items: Sequence[tuple[str, int, int]]) -> list[int]:
    """Add ``delta`` to each ``(key, delta, ttl)`` counter (created with ``ttl``); new values."""
    return _apply(increments=items)[2]


def usage_keys(key_pk: int, hour: int) -> tuple[str, str]:
    """Cache counters of one key's requests and errors in one hour (hour = epoch // 3600)."""
    return f"usage:{hour}:{key_pk}:r", f"usage:{hour}:{key_pk}:e"


def usage_index_key(hour: int) -> str:
    return f"usage:idx:{hour}"


def _index_generic(backend: Any, key_pk: int, hour: int) -> None:
    """List ``key_pk`` under ``hour`` once, with only add/incr/set: slot n of a counter."""
    if (key_pk, hour) in _indexed:
        return
    if len(_indexed) > 100_000:
        _indexed.clear()
    _indexed.add((key_pk, hour))
    if backend.add(f"usage:seen:{hour}:{key_pk}", 1, USAGE_TTL):
        slot = _incr_generic(backend, usage_index_key(hour), 1, USAGE_TTL)
        backend.set(f"{usage_index_key(hour)}:{slot}", key_pk, USAGE_TTL)


def index_members(hours: Sequence[int]) -> dict[int, set[int]]:
    """Which keys have usage counters, per hour."""
    backend = _cache()
    client = _redis(backend)
    if client is not None:
        pipe = client.pipeline(transaction=False)
        for hour in hours:
            pipe.smembers(backend.make_key(usage_index_key(hour)))
        return {hour: {int(m) for m in members} for hour, members in zip(hours, pipe.execute(), strict=True) if members}
    counts = backend.get_many([usage_index_key(h) for h in hours])
    out: dict[int, set[int]] = {}
    for hour in hours:
        n = int(counts.get(usage_index_key(hour)) or 0)
        if n:
            slots = backend.get_many([f"{usage_index_key(hour)}:{i}" for i in range(1, n + 1)])
            out[hour] = {int(v) for v in slots.values()}
    return out


def drop_index(hours: Sequence[int]) -> None:
    """Forget the index of hours that can no longer receive counts."""
    if not hours:
        return
    backend = _cache()
    client = _redis(backend)
    if client is not None:
        client.delete(*[backend.make_key(usage_index_key(h)) for h in hours])
        return
    counts = backend.get_many([usage_index_key(h) for h in hours])
    for hour in hours:
        n = int(counts.get(usage_index_key(hour)) or 0)
        backend.delete_many([usage_index_key(hour)] + [f"{usage_index_key(hour)}:{i}" for i in range(1, n + 1)])


def _usage_increments(key_pk: int, hour: int, requests: int, errors: int) -> list[tuple[str, int, int]]:
    req_key, err_key = usage_keys(key_pk, hour)
    return [(k, v, USAGE_TTL) for k, v in ((req_key, requests), (err_key, errors)) if v]


def record_usage(key_pk: int, *, requests: int, errors: int) -> None:
    """Count a key's requests/errors for the current hour (no database write)."""
    hour = int(now() // HOUR)
    _apply(increments=_usage_increments(key_pk, hour, requests, errors), index=(key_pk, hour))


# --- Limits and decisions -------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    seconds: int
    limit: int


@dataclass(frozen=True)
class Decision:
    """The outcome for one request, reported for its tightest window."""

    admitted: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when that window starts afresh
    retry_after: int  # seconds; 0 when admitted
    window: int  # that window's length in seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


@lru_cache(maxsize=256)
def _override(value: str) -> tuple[int, int] | None:
    from apikeys.services import parse_rate_limit
    from tater.exceptions import InvalidInput

    try:
        return parse_rate_limit(value)
    except InvalidInput:
        return None  # the services refuse bad values; an old bad row must not break requests


@lru_cache(maxsize=256)
def _windows(plan_limits: tuple[int, int], override: str) -> tuple[Window, ...]:
    limits = {60: plan_limits[0], HOUR: plan_limits[1]}
    extra = _override(override) if override else None
    if extra is not None:
        count, seconds = extra
        # A key's override can only tighten: the plan's windows still apply.
        limits[seconds] = min(count, limits.get(seconds, count))
    return tuple(Window(seconds, limit) for seconds, limit in sorted(limits.items()))


def windows_for(plan: str, override: str = "") -> tuple[Window, ...]:
    table = settings.TATER_PLAN_RATE_LIMITS
    plan_limits = table.get(plan) or table["free"]
    return _windows(tuple(plan_limits), override or "")


def _decide(windows: Sequence[Window], counts: Sequence[int], admitted: bool, t: float) -> Decision:
    best, best_rank = 0, None
    for i, w in enumerate(windows):
        reset = (int(t // w.seconds) + 1) * w.seconds
        left = w.limit - counts[i]
        # Admitted: the tightest window has the fewest requests left (then resets first).
        # Refused: of the exhausted windows, the one that frees up last sets Retry-After.
        rank = (left, reset) if admitted else (left > 0, -reset)
        if best_rank is None or rank < best_rank:
            best, best_rank = i, rank
    w = windows[best]
    reset = (int(t // w.seconds) + 1) * w.seconds
    if admitted:
        return Decision(True, w.limit, max(0, w.limit - counts[best]), reset, 0, w.seconds)
    return Decision(False, w.limit, 0, reset, max(1, math.ceil(reset - t)), w.seconds)


def hit(ident: str, windows: Sequence[Window], *, usage_pk: int | None = None) -> Decision:
    """Count one request of ``ident`` against ``windows`` (and as usage of key ``usage_pk``)."""
    t = now()
    checks = [(f"rl:{ident}:{w.seconds}:{int(t // w.seconds)}", w.limit, w.seconds + WINDOW_GRACE) for w in windows]
    if usage_pk is None:
        admitted, counts, _ = _apply(checks)
    else:
        hour = int(t // HOUR)
        admitted, counts, _ = _apply(checks, _usage_increments(usage_pk, hour, 1, 0), index=(usage_pk, hour))
    return _decide(windows, counts, admitted, t)


# --- DRF integration --------------------------------------------------------------------


class RateLimited(ApiError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, decision: Decision) -> None:
        super().__init__(
            f"Rate limit exceeded, retry in {decision.retry_after} seconds",
            details={"limit": decision.limit, "window_seconds": decision.window, "reset": decision.reset},
            headers={"Retry-After": str(decision.retry_after), **decision.headers()},
        )


def _tenant_plan(tenant_pk: int) -> str:
    from orgs.models import Tenant

    return Tenant.objects.filter(pk=tenant_pk).values_list("plan", flat=True).first() or "free"


class ApiRateThrottle(BaseThrottle):
    """Per key (or per session user and tenant) limits by plan; raises 429 ``RATE_LIMITED``.

    Requests that reached no access resolution (open endpoints, anonymous callers) are not
    rate-accounted here; the sign-in surfaces are guarded by the lockout and django-ratelimit.
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return self._allow(request)
        except Exception as exc:
            if not (faults.is_outage(exc) and settings.TATER_RATELIMIT_FAIL_OPEN):
                raise  # fail closed: 503 SERVICE_UNAVAILABLE through the exception handler
            _warn_fail_open(exc)
            return True

    def _allow(self, request: Request) -> bool:
        principal = request.auth
        if isinstance(principal, KeyPrincipal):
            windows = windows_for(principal.tenant_plan, principal.rate_limit)
            decision = hit(f"k{principal.pk}", windows, usage_pk=principal.pk)
        else:
            access = getattr(request, "access", None)
            user = request.user
            if access is None or user is None or not user.is_authenticated:
                return True
            # Sessions: the plan of the tenant this request resolved to (read fresh, so a
            # plan change applies to the very next request).
            windows = windows_for(_tenant_plan(access.tenant_pk))
            decision = hit(f"u{user.pk}t{access.tenant_pk}", windows)
        request._tater_rate = decision  # type: ignore[attr-defined]
        if not decision.admitted:
            raise RateLimited(decision)
        return True


_last_fail_open_warning = [0.0]


def _warn_fail_open(exc: BaseException) -> None:
    """The cache is down and limits fail open: say so, at most every 10 seconds."""
    t = time.monotonic()
    if t - _last_fail_open_warning[0] >= 10:
        _last_fail_open_warning[0] = t
        logger.warning("Rate-limit store unreachable (%s); admitting requests (TATER_RATELIMIT_FAIL_OPEN)", type(exc).__name__)


def finish(request: Request, response: Any) -> None:
    """Response hook: rate-limit headers, error counting for key usage, periodic flush."""
    try:
        _finish(request, response)
    except Exception as exc:
        # Usage counting is bookkeeping: with the store down and limits failing open, the
        # response still goes out (the counts of the outage are lost).
        if not (faults.is_outage(exc) and settings.TATER_RATELIMIT_FAIL_OPEN):
            raise
        _warn_fail_open(exc)


def _finish(request: Request, response: Any) -> None:
    decision: Decision | None = request.__dict__.get("_tater_rate")
    if decision is not None:
        for name, value in decision.headers().items():
            response[name] = value
    principal = request.__dict__.get("_auth")
    if isinstance(principal, KeyPrincipal):
        failed = int(response.status_code >= 400)
        if decision is None:
            # Refused before the throttle (e.g. missing scope): still a request of this key.
            record_usage(principal.pk, requests=1, errors=failed)
        elif failed:
            record_usage(principal.pk, requests=0, errors=1)
        from apikeys import usage

        usage.maybe_flush()
