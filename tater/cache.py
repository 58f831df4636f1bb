"""Django's cache on the process-wide Redis client: standalone, TLS and Redis Cluster alike.

``RedisCache`` does what Django's own ``django.core.cache.backends.redis.RedisCache`` does
(key prefixes, versions, timeouts and the serializer behave exactly as Django documents
them), with a client that is :func:`tater.redis_client.get_client` instead of a connection pool built
from ``LOCATION``. That client follows ``REDIS_URL``, ``REDIS_CLUSTER`` and the TLS and
timeout settings (and is rebuilt when they change), so the cache, the rate limiter and
everything else share one client per process. ``LOCATION`` is ignored.

How it is wired: Django's ``RedisCacheClient`` is subclassed and its ``get_client`` (the
method Django's own comment names as the hook for custom clients, e.g. sharding) returns
the shared client; ``RedisCache`` is a ``BaseCache`` whose methods call that client as
Django's own ``RedisCache`` does (no private name of Django's is used).

What changes from Django's client, all for Redis Cluster, where keys of different slots
cannot share a command:

- ``get_many``: ``mget_nonatomic`` (one MGET per slot) on a cluster, MGET otherwise;
- ``set_many``: one pipelined ``SET … EX`` per key instead of ``MSET`` + ``EXPIRE``;
- ``delete_many``: redis-py's cluster ``delete`` already splits DEL per slot;
- ``incr``/``decr``: one Lua script (EXISTS then INCRBY) — atomic, and a key that expires
  between the check and the increment is never re-created without its TTL;
- ``clear``: SCAN (every primary of a cluster) for this cache's keys — those the default
  key function makes, ``<KEY_PREFIX>:<version>:<key>`` — and deletes them. Never FLUSHDB:
  the same database holds the rate limiter's counters and other caches' keys. With a
  custom ``KEY_FUNCTION`` give the SCAN pattern as ``OPTIONS["clear_match"]``.

OPTIONS: ``serializer`` (as Django's), ``clear_match`` (above) and ``fail_soft``: when true,
reads (``get``, ``get_many``, ``has_key``) and fills (``set``, ``add``, ``touch``) survive a
Redis outage — a miss, a dropped write, one warning per 10 s — so callers fall back to the
database; invalidations (``delete``, ``delete_many``, ``clear``) and ``incr``/``decr`` stay
strict, so a cache that comes back never serves something whose invalidation failed.
``RedisCache.strict`` is the same cache with nothing soft: the rate limiter's view of it.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, TypeAlias, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache, default_key_func, get_key_func
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.core.cache.backends.redis import RedisSerializer
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from redis.cluster import RedisCluster
from redis.exceptions import ClusterError, OutOfMemoryError, ReadOnlyError, RedisClusterException, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tater import redis_client
from tater.outages import caused_by

__all__ = ["RedisCache", "RedisCacheClient"]

logger = logging.getLogger("tater.cache")

T = TypeVar("T")
_Key: TypeAlias = str | bytes | memoryview  # a cache key, as Django's client types it

# INCRBY only if the key exists (Django raises ValueError for a missing key); a non-integer
# value makes INCRBY fail as it does with Django's client. One key: fine on a cluster.
INCR_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

CLEAR_SCAN_COUNT = 1000  # keys per SCAN step and per DEL batch
# As tater.limiter counts them: refused/lost/timed out (incl. a server still loading), a
# cluster that is down, a failover in progress (READONLY), a server out of memory.
_OUTAGE_TYPES = (RedisConnectionError, RedisTimeoutError, ClusterError, ReadOnlyError, OutOfMemoryError)
_CLIENT_OPTIONS = frozenset({"serializer", "clear_match"})


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis glob pattern (SCAN MATCH)."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def is_outage(exc: BaseException | None) -> bool:
    """A Redis outage rather than a bug, looked for along the exception chain (a cluster
    client that reaches no node raises ``RedisClusterException`` from the ``ConnectionError``)."""
    return caused_by(exc, _OUTAGE_TYPES)


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's Redis cache client on :func:`tater.redis_client.get_client`, cluster-safe."""

    def __init__(self, servers: list[str], serializer: Any = None, clear_match: str = "", **options: Any) -> None:
        unknown = set(options) - _CLIENT_OPTIONS
        if unknown:
            # pool_class, parser_class, connection options, django-redis' CLIENT_CLASS ...: the
            # shared client is built from the REDIS_* settings (tater.redis_client), not here.
            raise ImproperlyConfigured(
                f"tater.cache.RedisCache does not take OPTIONS {sorted(unknown)}; "
                "the Redis connection is configured by the REDIS_* settings"
            )
        if isinstance(serializer, str):
            serializer = import_string(serializer)
        if callable(serializer):
            serializer = serializer()
        self.serializer: Any = serializer or RedisSerializer()
        self.clear_match = clear_match
        super().__init__(servers, serializer=self.serializer)

    # The shared client is a RedisCluster under REDIS_CLUSTER: not a redis.Redis, but it
    # speaks every command that Django's client and the overrides below send.
    def get_client(  # type: ignore[override]
        self, key: Any = None, *, write: bool = False
    ) -> redis_client.RedisClient:
        """The process-wide client (never one per cache: the shared one follows settings)."""
        return redis_client.get_client()

    def get_many(self, keys: Iterable[_Key]) -> dict[_Key, Any]:
        keys = list(keys)
        if not keys:
            return {}
        client = self.get_client()
        if isinstance(client, RedisCluster):
            values = client.mget_nonatomic(keys)
        else:
            values = client.mget(keys)
        return {k: self.serializer.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def set_many(self, data: Mapping[_Key, Any], timeout: int | timedelta | None) -> None:
        if not data:
            return
        client = self.get_client(write=True)
        # Standalone: MULTI/EXEC, atomic as Django's MSET + EXPIRE. Cluster: no transaction
        # (keys span slots); redis-py sends each node its keys' commands in one round trip.
        pipeline = client.pipeline()
        for key, value in data.items():
            if timeout == 0:  # Django: a non-positive timeout deletes (MSET then EXPIRE 0)
                pipeline.delete(key)
            else:
                pipeline.set(key, self.serializer.dumps(value), ex=timeout)
        pipeline.execute()

    def touch(self, key: _Key, timeout: int | timedelta | None) -> bool:  # as Django's: None keeps the key
        client = self.get_client(key, write=True)
        return bool(client.persist(key) if timeout is None else client.expire(key, timeout))

    def incr(self, key: _Key, delta: int) -> int:
        client = self.get_client(key, write=True)
        script = client.register_script(INCR_LUA)
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key {key!r} not found.")
        return int(value)

    def clear(self) -> bool:
        if not self.clear_match:
            raise ImproperlyConfigured(
                'tater.cache.RedisCache.clear() with a custom KEY_FUNCTION needs OPTIONS["clear_match"], '
                "the SCAN pattern of this cache's keys (it never flushes the database)"
            )
        client = self.get_client(write=True)
        batch: list[Any] = []
        for key in client.scan_iter(match=self.clear_match, count=CLEAR_SCAN_COUNT):
            batch.append(key)
            if len(batch) >= CLEAR_SCAN_COUNT:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
        return True


class RedisCache(BaseCache):
    """Django's cache API (``BaseCache``: keys made and validated, timeouts as Django
    documents them) over :class:`RedisCacheClient`, whose client is
    ``tater.redis_client.get_client()``. Each method does what Django's own ``RedisCache``
    does, on the public names of both classes.

    ``CACHES = {"default": {"BACKEND": "tater.cache.RedisCache", "KEY_PREFIX": "tater",
    "OPTIONS": {"fail_soft": True}}}``; the server is ``REDIS_URL`` (``LOCATION`` is ignored).
    """

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(params)
        options = dict(params.get("OPTIONS", {}))
        self.fail_soft = bool(options.pop("fail_soft", False))
        if "clear_match" not in options:
            key_func: Callable[..., str] = get_key_func(params.get("KEY_FUNCTION"))
            prefix = params.get("KEY_PREFIX", "")
            options["clear_match"] = f"{glob_escape(prefix)}:*" if key_func is default_key_func else ""
        self.client = RedisCacheClient([server] if isinstance(server, str) else list(server), **options)

    @property
    def strict(self) -> RedisCache:
        """This cache with every call failing loudly during an outage: what the rate limiter
        counts and keeps values in (a lock read as a miss would be "not locked")."""
        if not self.fail_soft:
            return self
        loud = copy.copy(self)
        loud.fail_soft = False
        return loud

    def get_backend_timeout(self, timeout: Any = DEFAULT_TIMEOUT) -> int | None:
        if timeout == DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else max(0, int(timeout))  # None: kept; ≤ 0: deleted

    # Fail soft (OPTIONS["fail_soft"]): reads miss and fills drop during an outage.

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        return self._soft("get", lambda: self.client.get(key, default), default)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        key_map: dict[_Key, Any] = {self.make_and_validate_key(key, version=version): key for key in keys}
        nothing: dict[_Key, Any] = {}
        found = self._soft("get_many", lambda: self.client.get_many(key_map), nothing)
        return {key_map[k]: v for k, v in found.items()}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._soft("has_key", lambda: bool(self.client.has_key(key)), False)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._soft("set", lambda: self.client.set(key, value, self.get_backend_timeout(timeout)), None)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._soft("add", lambda: bool(self.client.add(key, value, self.get_backend_timeout(timeout))), False)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._soft("touch", lambda: bool(self.client.touch(key, self.get_backend_timeout(timeout))), False)

    # Never soft: a lost delete, increment or clear would go unnoticed.

    def delete(self, key: Any, version: int | None = None) -> bool:
        return bool(self.client.delete(self.make_and_validate_key(key, version=version)))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self.client.incr(self.make_and_validate_key(key, version=version), delta)

    def set_many(
        self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        if data:
            safe: dict[_Key, Any] = {self.make_and_validate_key(key, version=version): v for key, v in data.items()}
            self.client.set_many(safe, self.get_backend_timeout(timeout))
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        safe = [self.make_and_validate_key(key, version=version) for key in keys]
        if safe:
            self.client.delete_many(safe)

    def clear(self) -> None:
        self.client.clear()

    def _soft(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        if not self.fail_soft:
            return call()
        try:
            return call()
        except (RedisError, RedisClusterException) as exc:  # the latter is no RedisError
            if not is_outage(exc):
                raise
            _warn(operation, exc)
            return fallback


_last_warning = 0.0


def _warn(operation: str, exc: BaseException) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 10:  # one line per 10 s, not one per request
        _last_warning = now
        logger.warning("Cache unavailable, %s served without it: %s", operation, exc.__cause__ or exc)
