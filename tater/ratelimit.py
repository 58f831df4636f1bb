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
import os
import pickle  # noqa: S403 - LocMemCache's own value format, never external data
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apikeys.principal import GEN_PREFIX, GEN_TTL, KeyPrincipal, kind_of, new_generation
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

# One script for every counter update of a request: optionally check a key's generation
# first (apikeys.principal: a changed generation means the caller's verified principal is
# stale, so nothing is counted and the current generation is returned for a reload), then
# check the windows, increment them only if all admit, add the plain increments, list the
# key in the usage index.
# KEYS: [generation key], n window counters, m plain counters, then optionally the index
# set. ARGV[1], space-separated (one argument is cheaper to send than twenty): gen mode
# ('1' with a generation key, else '0'), expected generation ('-' = read only), initial
# value if the generation key is missing, its ttl, n, m, (limit, ttl) per window,
# (delta, ttl) per plain counter, then (member, ttl) for the index.
# Returns one space-separated string: the generation alone when it differs from the
# expected one, else [generation] admitted, window counts..., plain values...
_APPLY_LUA = b"""
local A = {}
for v in string.gmatch(ARGV[1], '%S+') do A[#A + 1] = v end
local o, a = 0, 4
local g = false
if A[1] == '1' then
  g = redis.call('GET', KEYS[1])
  if not g then
    g = A[3]
    redis.call('SET', KEYS[1], g, 'EX', A[4])
  end
  if g ~= A[2] then return g end
  o = 1
end
local n, m = tonumber(A[a + 1]), tonumber(A[a + 2])
local out = {}
local admitted = 1
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[o + i]) or 0)
  out[i] = c
  if c >= tonumber(A[a + 1 + 2 * i]) then admitted = 0 end
end
if admitted == 1 then
  for i = 1, n do
    out[i] = redis.call('INCR', KEYS[o + i])
    if out[i] == 1 then redis.call('EXPIRE', KEYS[o + i], A[a + 2 + 2 * i]) end
  end
end
local base = a + 2 + 2 * n
for j = 1, m do
  local delta = tonumber(A[base + 2 * j - 1])
  local v = redis.call('INCRBY', KEYS[o + n + j], delta)
  if v == delta then redis.call('EXPIRE', KEYS[o + n + j], A[base + 2 * j]) end
  out[n + j] = v
end
if #KEYS > o + n + m then
  local set = KEYS[o + n + m + 1]
  if redis.call('SADD', set, A[base + 2 * m + 1]) == 1 then redis.call('EXPIRE', set, A[base + 2 * m + 2]) end
end
table.insert(out, 1, admitted)
if g then table.insert(out, 1, g) end
return table.concat(out, ' ')
"""


# The key path's script (``key_hit``): the same semantics as _APPLY_LUA for one key's
# request, in the fewest calls: check the generation, increment the windows (and take the
# increments back if one is over its limit: atomic inside the script), count the usage,
# list the key in the hour's usage index when this process has not yet done so.
# KEYS: generation, n window counters, usage counter, usage index.
# ARGV: expected generation, its ttl, n, (limit, ttl) per window, usage ttl, index member
# ('' = already listed), initial value if the generation key is missing (last: it changes
# per call). Returns 'generation' when it differs, else 'generation admitted counts...'.
_KEY_LUA = b"""
local g = redis.call('GET', KEYS[1])
if not g then
  g = ARGV[#ARGV]
  redis.call('SET', KEYS[1], g, 'EX', ARGV[2])
end
if g ~= ARGV[1] then return g end
local n = tonumber(ARGV[3])
local out = {g, '1'}
local ok = true
for i = 1, n do
  local c = redis.call('INCR', KEYS[1 + i])
  if c == 1 then redis.call('EXPIRE', KEYS[1 + i], ARGV[3 + 2 * i]) end
  out[2 + i] = c
  if c > tonumber(ARGV[2 + 2 * i]) then ok = false end
end
if not ok then
  out[2] = '0'
  for i = 1, n do out[2 + i] = redis.call('DECR', KEYS[1 + i]) end
end
if redis.call('INCR', KEYS[n + 2]) == 1 then redis.call('EXPIRE', KEYS[n + 2], ARGV[4 + 2 * n]) end
local member = ARGV[5 + 2 * n]
if member ~= '' and redis.call('SADD', KEYS[n + 3], member) == 1 then
  redis.call('EXPIRE', KEYS[n + 3], ARGV[4 + 2 * n])
end
return table.concat(out, ' ')
"""


@lru_cache(maxsize=1)
def _key_script_head() -> bytes:
    import hashlib

    return _bulk(b"EVALSHA") + _bulk(hashlib.sha1(_KEY_LUA).hexdigest())  # noqa: S324  # nosec B324 - Redis names scripts by SHA-1


def _load_scripts(client: Any) -> None:
    """First use on this server (or after a restart): load both scripts."""
    client.script_load(_APPLY_LUA)
    client.script_load(_KEY_LUA)


@lru_cache(maxsize=1)
def _script() -> Any:
    from redis.commands.core import Script

    # A bytes script needs no client to hash; each call passes the connection to use.
    return Script(None, _APPLY_LUA)  # type: ignore[arg-type]


def _cache() -> Any:
    return caches["default"]


def _redis(backend: Any) -> Any | None:
    """The raw redis client behind a django-redis backend, else None."""
    if kind_of(backend) != "redis":
        return None
    return backend.client.get_client(write=True)


def _is_locmem(backend: Any) -> bool:
    return isinstance(backend, LocMemCache)


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
    """The script's semantics on LocMemCache's own storage (for counters other code reads
    or deletes through the cache API, e.g. the lockout's): dict operations under the
    cache's lock, exact for every thread of the process."""
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


# --- Process-local counters (locmem) -----------------------------------------------------
#
# With the in-process cache, the rate-limit windows and the usage counters live here: plain
# ints under one lock, with an expiry (monotonic clock) like LocMemCache's, and no pickling.
# Same per-process scope as LocMemCache; exact admission for every thread.
LOCAL_PREFIXES = ("rl:", "usage:")
_counters: dict[str, list[Any]] = {}  # name -> [value, expires_at]
_counters_lock = threading.Lock()
_next_sweep = [0.0]
SWEEP_INTERVAL = 30.0


def _sweep(t: float) -> None:
    """Drop expired counters (past windows) now and then; caller holds the lock."""
    _next_sweep[0] = t + SWEEP_INTERVAL
    for name in [name for name, cell in _counters.items() if cell[1] <= t]:
        del _counters[name]


def _apply_local(
    windows: Sequence[tuple[str, int, int]], increments: Sequence[tuple[str, int, int]]
) -> tuple[bool, list[int], list[int]]:
    t = time.monotonic()
    counters = _counters
    counts: list[int] = []
    values: list[int] = []
    with _counters_lock:
        if t >= _next_sweep[0]:
            _sweep(t)
        admitted = True
        for name, limit, _ in windows:
            cell = counters.get(name)
            count = cell[0] if cell is not None and cell[1] > t else 0
            counts.append(count)
            if count >= limit:
                admitted = False
        if admitted:
            for i, (name, _, ttl) in enumerate(windows):
                cell = counters.get(name)
                if cell is None or cell[1] <= t:
                    counters[name] = [1, t + ttl]
                    counts[i] = 1
                else:
                    cell[0] += 1
                    counts[i] = cell[0]
        for name, delta, ttl in increments:
            cell = counters.get(name)
            if cell is None or cell[1] <= t:
                counters[name] = [delta, t + ttl]
                values.append(delta)
            else:
                cell[0] += delta
                values.append(cell[0])
    return admitted, counts, values


def read_counters(names: Sequence[str]) -> dict[str, int]:
    """Current values of counters written through ``_apply`` (missing ones are left out)."""
    backend = _cache()
    if not _is_locmem(backend):
        return {k: int(v) for k, v in backend.get_many(list(names)).items()}
    t = time.monotonic()
    out: dict[str, int] = {}
    local = [n for n in names if n.startswith(LOCAL_PREFIXES)]
    with _counters_lock:
        for name in local:
            cell = _counters.get(name)
            if cell is not None and cell[1] > t:
                out[name] = int(cell[0])
    others = [n for n in names if not n.startswith(LOCAL_PREFIXES)]
    if others:
        out.update({k: int(v) for k, v in backend.get_many(others).items()})
    return out


def reset_local_counters() -> None:
    """For tests: forget this process's counters (and the per-key call templates)."""
    with _counters_lock:
        _counters.clear()
        _next_sweep[0] = 0.0
    _forget_calls()


def _forget_calls() -> None:
    _local_calls.clear()
    _key_calls.clear()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("TATER_PLAN_RATE_LIMITS", "CACHES"):
        _forget_calls()  # templates carry the limits and key names of the old settings


setting_changed.connect(_on_setting_changed, dispatch_uid="tater.ratelimit.forget_calls")


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


# --- One round trip, as cheap as it gets ------------------------------------------------
#
# redis-py's command path (pool checkout and return, argument encoding, observability
# hooks) costs several times the round trip itself on the hot path. Each thread keeps one
# connection of the cache's pool for this script, and the EVALSHA is packed directly
# (RESP bulk strings). Any failure other than an error reply drops that connection: the
# next call opens a fresh one (after a fork too).
_held = threading.local()


def _bulk(value: Any) -> bytes:
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode()
    else:
        data = b"%d" % value
    return b"$%d\r\n%s\r\n" % (len(data), data)


@lru_cache(maxsize=1)
def _evalsha_head() -> bytes:
    return _bulk(b"EVALSHA") + _bulk(_script().sha)


def _held_connection(client: Any) -> Any:
    """This thread's connection for the script (opened on first use, after a fork, or
    when the pool changed)."""
    pool = client.connection_pool
    conn = getattr(_held, "conn", None)
    if conn is None or _held.pool is not pool:
        # Built from the pool's public settings rather than pool.make_connection(), which
        # counts against max_connections and never gives the count back: a threaded server
        # (a thread per request) would exhaust the pool after 100 threads. The socket closes
        # when the thread's storage goes.
        conn = pool.connection_class(**pool.connection_kwargs)
        _held.conn, _held.pool, _held.pending = conn, pool, None
    return conn


def _forget_held_after_fork() -> None:
    """A forked child (a gunicorn worker) opens its own connection: never the parent's."""
    global _held
    _held = threading.local()


os.register_at_fork(after_in_child=_forget_held_after_fork)


def _drop_held(conn: Any) -> None:
    _held.conn = None
    _held.backend = None
    _held.pending = None
    conn.disconnect()


def _sendall(conn: Any, packed: bytes) -> None:
    """Write one packed command on ``conn``'s socket (connecting first if needed); the one
    place the script's calls leave the process."""

    try:
        sock = conn._sock
        if sock is None:
            conn.connect()
            sock = conn._sock
        sock.sendall(packed)
    except TimeoutError as exc:
        _drop_held(conn)
        raise RedisTimeoutError("Timeout writing to the rate-limit store") from exc
    except OSError as exc:
        _drop_held(conn)
        raise RedisConnectionError(f"Error writing to the rate-limit store: {exc}") from exc
    except BaseException:
        _drop_held(conn)
        raise


def _send_packed(client: Any, packed: bytes, backend: Any = None) -> Any:
    """Write one packed script call on this thread's connection (after reading any reply
    still pending on it); returns the connection to read the reply from. With ``backend``
    (and ``client`` None), the backend's client is only looked up when this thread has no
    connection for that backend yet."""
    held = _held.__dict__
    pending = held.get("pending")
    if pending is not None:
        pending.drain()
    conn = held.get("conn")
    if conn is None or backend is None or held.get("backend") is not backend:
        conn = _held_connection(client if client is not None else backend.client.get_client(write=True))
        _held.backend = backend
    _sendall(conn, packed)
    return conn


def _send(client: Any, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """Send one EVALSHA of the generic script; returns the connection to read from."""
    packed = b"".join(
        [b"*%d\r\n" % (3 + len(keys) + len(args)), _evalsha_head(), _bulk(len(keys)), *map(_bulk, keys), *map(_bulk, args)]
    )
    return _send_packed(client, packed)


def _read_reply(sock: Any) -> bytes:
    """One reply of the script (a bulk string) or an error reply, read off the socket: the
    connection carries one call at a time, so nothing else can be in the stream."""

    buf = sock.recv(4096)
    while True:
        if not buf:
            raise ConnectionResetError("the rate-limit store closed the connection")
        end = buf.find(b"\r\n")
        if end >= 0:
            break
        buf += sock.recv(4096)
    kind = buf[:1]
    if kind == b"$":
        size = int(buf[1:end])
        need = end + 4 + size
        while len(buf) < need:
            more = sock.recv(max(4096, need - len(buf)))
            if not more:
                raise ConnectionResetError("the rate-limit store closed the connection")
            buf += more
        return bytes(buf[end + 2 : end + 2 + size])
    if kind == b"-":
        message = buf[1:end].decode("utf-8", "replace")
        raise NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)
    if kind == b":":
        return bytes(buf[1:end])
    raise ResponseError(f"Unexpected reply from the rate-limit store: {bytes(buf[:32])!r}")


def _receive(conn: Any) -> Any:

    try:
        sock = conn._sock
        if sock is None:
            raise ConnectionResetError("the connection was closed")
        return _read_reply(sock)
    except ResponseError:
        raise  # an error reply (NOSCRIPT included): the connection is fine
    except BaseException as exc:
        if getattr(_held, "conn", None) is conn:
            _drop_held(conn)
        else:
            conn.disconnect()
        if isinstance(exc, TimeoutError):
            raise RedisTimeoutError("Timeout reading from the rate-limit store") from exc
        if isinstance(exc, OSError):
            raise RedisConnectionError(f"Error reading from the rate-limit store: {exc}") from exc
        raise


def _evalsha(client: Any, keys: Sequence[Any], args: Sequence[Any]) -> Any:

    try:
        return _receive(_send(client, keys, args))
    except NoScriptError:
        _load_scripts(client)
        return _receive(_send(client, keys, args))


# Process memo of (key pk, hour) already listed in the cache's usage index (not Redis).
_indexed: set[tuple[int, int]] = set()

_NO_GEN = "0 - - -"
_prefixes: dict[int, tuple[Any, str]] = {}


def _key_maker(backend: Any) -> Any:
    """``backend.make_key`` for version-less names: with Django's default key function the
    full key is a constant prefix + name (computed once per backend), else the backend's."""
    from django.core.cache.backends.base import default_key_func

    if backend.key_func is not default_key_func:
        return backend.make_key
    cached = _prefixes.get(id(backend))
    if cached is None or cached[0] is not backend:
        cached = _prefixes[id(backend)] = (backend, backend.make_key("")[:])
    return cached[1].__add__


def _redis_command(
    backend: Any,
    windows: Sequence[tuple[str, int, int]],
    increments: Sequence[tuple[str, int, int]],
    index: tuple[int, int] | None,
    gen: tuple[str, Any] | None,
    fresh: str | None = None,
) -> tuple[list[Any], tuple[str]]:
    """The script's keys and its one argument (see ``_APPLY_LUA``); ``fresh``: the value a
    missing generation key is created with (default: a new random one)."""
    make_key = _key_maker(backend)
    keys: list[Any] = []
    if gen is None:
        head = _NO_GEN
    else:
        keys.append(make_key(GEN_PREFIX + gen[0]))
        expected = gen[1].decode() if isinstance(gen[1], bytes) else "-"
        head = f"1 {expected} {fresh or new_generation()} {GEN_TTL}"
    numbers = [head, str(len(windows)), str(len(increments))]
    for item in windows:
        keys.append(make_key(item[0]))
        numbers += [str(item[1]), str(item[2])]
    for item in increments:
        keys.append(make_key(item[0]))
        numbers += [str(item[1]), str(item[2])]
    if index is not None:
        keys.append(make_key(usage_index_key(index[1])))
        numbers += [str(index[0]), str(USAGE_TTL)]
    return keys, (" ".join(numbers),)


def _redis_outcome(reply: bytes, n: int, with_gen: bool) -> tuple[Any, tuple[bool, list[int], list[int]] | None]:
    """The script's reply: the key's current generation (None without a generation key)
    and the outcome (None when the generation differed: nothing was counted)."""
    result = reply.split()
    current = None
    if with_gen:
        current = result[0]
        if len(result) == 1:
            return current, None
        result = result[1:]
    return current, (result[0] == b"1", [int(v) for v in result[1 : 1 + n]], [int(v) for v in result[1 + n :]])


def _apply_redis(
    backend: Any,
    client: Any,
    windows: Sequence[tuple[str, int, int]],
    increments: Sequence[tuple[str, int, int]],
    index: tuple[int, int] | None,
    gen: tuple[str, Any] | None = None,
) -> tuple[Any, tuple[bool, list[int], list[int]] | None]:
    """One script call. ``gen``: ``(digest, expected generation or None)``; returns the
    key's current generation (None without ``gen``) and the outcome (None when the
    generation differed from the expected one: nothing was counted)."""
    keys, args = _redis_command(backend, windows, increments, index, gen)
    return _redis_outcome(_evalsha(client, keys, args), len(windows), gen is not None)


def _apply(
    windows: Sequence[tuple[str, int, int]] = (),
    increments: Sequence[tuple[str, int, int]] = (),
    index: tuple[int, int] | None = None,
    backend: Any = None,
) -> tuple[bool, list[int], list[int]]:
    """Every counter update of one request, atomically, in one round trip on Redis.

    ``windows``: ``(key, limit, ttl)`` counters incremented only if each is below its
    limit (returns whether they were, and their counts); ``increments``: ``(key, delta,
    ttl)`` counters always added to (returns their values); ``index``: ``(key pk, hour)``
    to list in the usage index.
    """
    if backend is None:
        backend = _cache()
    if _is_locmem(backend):
        shared = [i for i in increments if not i[0].startswith(LOCAL_PREFIXES)]
        if shared:
            local = [i for i in increments if i[0].startswith(LOCAL_PREFIXES)]
            admitted, counts, local_values = _apply_local(windows, local)
            shared_values = iter(_apply_locmem(backend, (), shared)[2])
            local_iter = iter(local_values)
            values = [
                next(local_iter) if i[0].startswith(LOCAL_PREFIXES) else next(shared_values) for i in increments
            ]
            outcome = (admitted, counts, values)
        else:
            outcome = _apply_local(windows, increments)
    elif kind_of(backend) == "redis":
        return _apply_redis(backend, backend.client.get_client(write=True), windows, increments, index)[1]  # type: ignore[return-value]
    else:
        outcome = _apply_generic(backend, windows, increments)
    if index is not None and index not in _indexed:
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


@dataclass(slots=True)  # not frozen: built on every request, and a frozen __init__ costs more
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


def _checks(ident: str, windows: Sequence[Window], t: float) -> list[tuple[str, int, int]]:
    return [(f"rl:{ident}:{w.seconds}:{int(t // w.seconds)}", w.limit, w.seconds + WINDOW_GRACE) for w in windows]


def hit(ident: str, windows: Sequence[Window], *, usage_pk: int | None = None, backend: Any = None) -> Decision:
    """Count one request of ``ident`` against ``windows`` (and as usage of key ``usage_pk``)."""
    t = now()
    checks = _checks(ident, windows, t)
    if usage_pk is None:
        admitted, counts, _ = _apply(checks, backend=backend)
    else:
        hour = int(t // HOUR)
        admitted, counts, _ = _apply(
            checks, _usage_increments(usage_pk, hour, 1, 0), index=(usage_pk, hour), backend=backend
        )
    return _decide(windows, counts, admitted, t)


# --- The key path on the in-process counters (locmem) ------------------------------


def _period(windows: Sequence[Window], t: float) -> tuple[int, int, tuple[int, ...]]:
    """When the windows containing ``t`` (and its usage hour) all began and the first of
    them ends, and each window's reset: a call template is valid in [start, stop)."""
    spans = [w.seconds for w in windows] + [HOUR]
    start = max(int(t // n) * n for n in spans)
    stop = min((int(t // n) + 1) * n for n in spans)
    return start, stop, tuple((int(t // w.seconds) + 1) * w.seconds for w in windows)


class _LocalCall:
    """One key's counter names, limits and resets for as long as its windows stay the
    same (a minute, usually), so a request only touches the counters."""

    __slots__ = ("principal", "start", "stop", "windows", "names", "limits", "ttls", "resets", "usage", "index")

    def __init__(self, principal: KeyPrincipal, t: float) -> None:
        self.principal = principal
        self.windows = windows_for(principal.tenant_plan, principal.rate_limit)
        checks = _checks(f"k{principal.pk}", self.windows, t)
        self.names = tuple(name for name, _, _ in checks)
        self.limits = tuple(limit for _, limit, _ in checks)
        self.ttls = tuple(ttl for _, _, ttl in checks)
        self.start, self.stop, self.resets = _period(self.windows, t)
        hour = int(t // HOUR)
        self.usage = usage_keys(principal.pk, hour)[0]
        self.index = (principal.pk, hour)


_local_calls: dict[int, _LocalCall] = {}


def key_hit_local(backend: Any, principal: KeyPrincipal) -> Decision:
    """``hit`` for a key on the in-process counters (same counters, same decision)."""
    t = now()
    call = _local_calls.get(principal.pk)
    if call is None or call.principal is not principal or not call.start <= t < call.stop:
        if len(_local_calls) >= 50_000:
            _local_calls.clear()
        call = _local_calls[principal.pk] = _LocalCall(principal, t)
    mono = time.monotonic()
    counters = _counters
    names, limits = call.names, call.limits
    counts = []
    with _counters_lock:
        if mono >= _next_sweep[0]:
            _sweep(mono)
        admitted = True
        cells = []
        for i, name in enumerate(names):
            cell = counters.get(name)
            if cell is None or cell[1] <= mono:
                cell = None
                counts.append(0)
            else:
                counts.append(cell[0])
                if cell[0] >= limits[i]:
                    admitted = False
            cells.append(cell)
        if admitted:
            for i, cell in enumerate(cells):
                if cell is None:
                    counters[names[i]] = [1, mono + call.ttls[i]]
                    counts[i] = 1
                else:
                    cell[0] += 1
                    counts[i] = cell[0]
        cell = counters.get(call.usage)
        if cell is None or cell[1] <= mono:
            counters[call.usage] = [1, mono + USAGE_TTL]
        else:
            cell[0] += 1
    if call.index not in _indexed:
        _index_generic(backend, *call.index)
    if not admitted:
        return _decide(call.windows, counts, False, t)
    return _admitted(call.windows, limits, call.resets, counts)


def _admitted(windows: Sequence[Window], limits: Sequence[int], resets: Sequence[int], counts: Sequence[int]) -> Decision:
    """``_decide`` for an admitted request, with the windows' limits and resets known."""
    best = 0
    if len(limits) > 1:
        best_rank = (limits[0] - counts[0], resets[0])
        for i in range(1, len(limits)):
            rank = (limits[i] - counts[i], resets[i])
            if rank < best_rank:
                best, best_rank = i, rank
    limit = limits[best]
    return Decision(True, limit, max(0, limit - counts[best]), resets[best], 0, windows[best].seconds)


# --- The key path on Redis: generation check and counting in one round trip -----------


@dataclass(slots=True)  # built on every key request: a plain __init__
class KeyCount:
    """A key request counted at authentication time (Redis): the decision, and what to
    give back if the request is then refused before the limiter (403)."""

    decision: Decision
    usage_pk: int
    hour: int
    refund: tuple[tuple[str, int, int], ...]  # the window counters incremented, as (key, -1, ttl)


def key_generation(backend: Any, digest: str) -> Any:
    """The current generation of ``digest`` (created if missing); one round trip."""
    return _apply_redis(backend, backend.client.get_client(write=True), (), (), None, gen=(digest, None))[0]


class _KeyCall:
    """One principal's ``key_hit`` call (``_KEY_LUA``), packed, for as long as its windows
    stay the same (a minute, usually): per request only the fresh generation is added."""

    __slots__ = (
        "principal", "start", "stop", "windows", "checks", "limits", "resets", "hour", "refund", "index",
        "expected", "plain", "listing",
    )

    def __init__(self, backend: Any, digest: str, expected: Any, principal: KeyPrincipal, t: float) -> None:
        self.principal, self.expected = principal, expected
        self.windows = windows_for(principal.tenant_plan, principal.rate_limit)
        self.checks = _checks(f"k{principal.pk}", self.windows, t)
        self.limits = tuple(w.limit for w in self.windows)
        self.start, self.stop, self.resets = _period(self.windows, t)
        self.hour = hour = int(t // HOUR)
        self.index = (principal.pk, hour)
        self.refund = tuple((name, -1, ttl) for name, _, ttl in self.checks)
        make_key = _key_maker(backend)
        keys = [
            make_key(GEN_PREFIX + digest),
            *(make_key(name) for name, _, _ in self.checks),
            make_key(usage_keys(principal.pk, hour)[0]),
            make_key(usage_index_key(hour)),
        ]
        args: list[Any] = [expected if isinstance(expected, bytes) else b"-", GEN_TTL, len(self.checks)]
        for _, limit, ttl in self.checks:
            args += [limit, ttl]
        args.append(USAGE_TTL)
        head = b"".join(
            [b"*%d\r\n" % (3 + len(keys) + len(args) + 2), _key_script_head(), _bulk(len(keys)), *map(_bulk, keys), *map(_bulk, args)]
        )
        self.plain = head + _bulk(b"")  # the key is already in this hour's usage index
        self.listing = head + _bulk(principal.pk)

    def packed(self) -> bytes:
        fresh = b"%d" % new_generation()
        prefix = self.plain if self.index in _indexed else self.listing
        return b"%s$%d\r\n%s\r\n" % (prefix, len(fresh), fresh)

    def count(self, reply: bytes, t: float) -> tuple[Any, KeyCount | None]:
        """The generation and the count in the script's reply (None: generation differed)."""
        parts = reply.split()
        if len(parts) == 1:
            return parts[0], None
        if len(_indexed) > 100_000:
            _indexed.clear()
        _indexed.add(self.index)  # the script listed it (or it already was)
        n = len(self.checks)
        counts = [int(v) for v in parts[2 : 2 + n]]
        if parts[1] == b"1":
            decision = _admitted(self.windows, self.limits, self.resets, counts)
            return parts[0], KeyCount(decision, self.principal.pk, self.hour, self.refund)
        return parts[0], KeyCount(_decide(self.windows, counts, False, t), self.principal.pk, self.hour, ())


# digest → the _KeyCall last used for it (checked against principal, generation and time).
_key_calls: dict[str, _KeyCall] = {}


def _key_call(backend: Any, digest: str, expected: Any, principal: KeyPrincipal, t: float) -> _KeyCall:
    call = _key_calls.get(digest)
    if call is None or call.principal is not principal or call.expected != expected or not call.start <= t < call.stop:
        if len(_key_calls) >= 50_000:
            _key_calls.clear()
        call = _key_calls[digest] = _KeyCall(backend, digest, expected, principal, t)
    return call


def key_hit(backend: Any, digest: str, expected: Any, principal: KeyPrincipal) -> tuple[Any, KeyCount | None]:
    """If ``digest``'s generation is still ``expected``, count one request of the key
    (windows of its plan/override, usage) and decide; else count nothing. Returns the
    current generation and the count (None when the generation differed)."""

    t = now()
    call = _key_call(backend, digest, expected, principal, t)
    try:
        reply = _receive(_send_packed(None, call.packed(), backend))
    except NoScriptError:
        _load_scripts(backend.client.get_client(write=True))
        reply = _receive(_send_packed(None, call.packed(), backend))
    return call.count(reply, t)


class KeyHitAhead:
    """A ``key_hit`` sent before it is needed (``apikeys.middleware``): the round trip runs
    while the request goes through the middleware; authentication then reads the reply
    (``receive``) instead of waiting for a round trip of its own. One per thread at a time:
    any other script call on the thread's connection reads this reply first (``drain``).
    Not used by authentication (``claimed`` stays False), its count is given back by
    ``settle``."""

    __slots__ = ("backend", "digest", "raw", "expected", "principal", "t", "call", "conn", "reply", "error", "claimed")

    def __init__(self, backend: Any, digest: str, expected: Any, principal: KeyPrincipal) -> None:
        self.backend, self.digest, self.expected, self.principal = backend, digest, expected, principal
        self.raw: str | None = None  # the presented key (set by the middleware)
        self.t = t = now()
        self.call = _key_call(backend, digest, expected, principal, t)
        self.reply: bytes | None = None
        self.error: BaseException | None = None
        self.claimed = False
        self.conn = _send_packed(None, self.call.packed(), backend)
        _held.pending = self

    def drain(self) -> None:
        """Read the reply off the connection (kept, or the error kept), once."""
        if _held.__dict__.get("pending") is self:
            _held.pending = None
        if self.reply is not None or self.error is not None:
            return
        try:
            self.reply = _receive(self.conn)
        except Exception as exc:  # kept for receive(); settle() only needs to know
            self.error = exc

    def matches(self, digest: str, expected: Any, principal: KeyPrincipal) -> bool:
        return not self.claimed and digest == self.digest and expected == self.expected and principal is self.principal

    def receive(self) -> tuple[Any, KeyCount | None]:
        """What ``key_hit`` would have returned; claims the count."""

        self.claimed = True
        self.drain()
        if isinstance(self.error, NoScriptError):
            # The server lost its scripts (restart): nothing ran; do it the normal way.
            return key_hit(self.backend, self.digest, self.expected, self.principal)
        if self.error is not None:
            raise self.error
        return self.call.count(self.reply, self.t)  # type: ignore[arg-type]

    def settle(self) -> None:
        """End of request: if authentication did not use the count, give it back."""
        if self.claimed:
            return
        self.claimed = True
        self.drain()
        if self.error is not None:
            return  # nothing (known to be) counted
        _, counted = self.call.count(self.reply, self.t)  # type: ignore[arg-type]
        if counted is None:
            return  # generation differed: nothing was counted
        _apply(increments=[*counted.refund, *_usage_increments(counted.usage_pk, counted.hour, -1, 0)], backend=self.backend)


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


# Attributes of the Django request: the KeyCount made at authentication (Redis), and the
# KeyHitAhead sent by apikeys.middleware.
KEY_COUNT_ATTR = "_tater_key_count"
AHEAD_ATTR = "_tater_key_hit_ahead"


class ApiRateThrottle(BaseThrottle):
    """Per key (or per session user and tenant) limits by plan; raises 429 ``RATE_LIMITED``.

    Requests that reached no access resolution (open endpoints, anonymous callers) are not
    rate-accounted here; the sign-in surfaces are guarded by the lockout and django-ratelimit.
    On Redis a key's request was already counted by authentication, in the round trip
    that checked its principal's generation: the throttle only applies that decision.
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
            counted: KeyCount | None = request._request.__dict__.get(KEY_COUNT_ATTR)
            if counted is not None:
                decision = counted.decision
            else:
                backend = request._request.__dict__.get("_tater_cache")  # set by authentication
                if backend is not None and _is_locmem(backend):
                    decision = key_hit_local(backend, principal)
                else:
                    windows = windows_for(principal.tenant_plan, principal.rate_limit)
                    decision = hit(f"k{principal.pk}", windows, usage_pk=principal.pk, backend=backend)
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


def _peek(ident: str, windows: Sequence[Window], t: float, refund: Sequence[tuple[str, int, int]] = ()) -> Decision:
    """The caller's windows as they stand (after giving back ``refund``), counting nothing:
    the headers of a response refused before the limiter (SPEC §6: on every response)."""
    checks = _checks(ident, windows, t)
    given = {name for name, _, _ in refund}
    values = _apply(increments=[*refund, *[(k, 0, ttl) for k, _, ttl in checks if k not in given]])[2]
    by_key = dict(zip([*(n for n, _, _ in refund), *(k for k, _, _ in checks if k not in given)], values, strict=True))
    return _decide(windows, [by_key[k] for k, _, _ in checks], True, t)


def _caller_windows(request: Request, principal: KeyPrincipal | None) -> tuple[str, tuple[Window, ...]] | None:
    if principal is not None:
        return f"k{principal.pk}", windows_for(principal.tenant_plan, principal.rate_limit)
    access, user = getattr(request, "access", None), request.__dict__.get("_user")
    if access is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    return f"u{user.pk}t{access.tenant_pk}", windows_for(_tenant_plan(access.tenant_pk))


def _set_headers(response: Any, decision: Decision) -> None:
    """The X-RateLimit-* headers: fixed ASCII names, decimal values, so they go straight
    into the response's header store (``response[name] = value`` re-validates both)."""
    store = getattr(getattr(response, "headers", None), "_store", None)
    if not isinstance(store, dict):
        for name, value in decision.headers().items():
            response[name] = value
        return
    store["x-ratelimit-limit"] = ("X-RateLimit-Limit", str(decision.limit))
    store["x-ratelimit-remaining"] = ("X-RateLimit-Remaining", str(decision.remaining))
    store["x-ratelimit-reset"] = ("X-RateLimit-Reset", str(decision.reset))


@lru_cache(maxsize=1)
def _usage_module() -> Any:
    from apikeys import usage  # imports this module

    return usage


def _finish(request: Request, response: Any) -> None:
    request_dict = request.__dict__
    decision: Decision | None = request_dict.get("_tater_rate")
    principal = request_dict.get("_auth")
    principal = principal if isinstance(principal, KeyPrincipal) else None
    counted: KeyCount | None = getattr(request, "_request", request).__dict__.get(KEY_COUNT_ATTR)
    refund: tuple[tuple[str, int, int], ...] = ()
    if principal is not None:
        failed = int(response.status_code >= 400)
        if counted is not None:
            if decision is None:
                # Counted at authentication, then refused before the limiter (e.g. missing
                # scope): give the quota back (below); the request stays counted as usage.
                refund = counted.refund
                if failed:
                    _apply(increments=_usage_increments(counted.usage_pk, counted.hour, 0, failed))
                if not refund:
                    decision = counted.decision
            elif failed:
                _apply(increments=_usage_increments(counted.usage_pk, counted.hour, 0, 1))
        elif decision is None:
            # Refused before the throttle (e.g. missing scope): still a request of this key.
            record_usage(principal.pk, requests=1, errors=failed)
        elif failed:
            record_usage(principal.pk, requests=0, errors=1)
    if decision is None:
        caller = _caller_windows(request, principal)
        if caller is not None:
            decision = _peek(*caller, now(), refund)
    if decision is not None:
        _set_headers(response, decision)
    if principal is not None:
        _usage_module().maybe_flush()
