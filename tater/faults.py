"""Behaviour under infrastructure faults: a lost database or cache connection is a clear,
retryable 503 ``SERVICE_UNAVAILABLE`` (never a 500 with a traceback), and a Redis outage
does not take authentication down.

- ``is_outage(exc)``: a connection-level failure of PostgreSQL/SQLite or Redis, looked for
  along the exception chain. Used by the API exception handler (``tater.api.errors``) and
  by ``ServiceFaultMiddleware`` for everything outside DRF (sessions, UI pages, admin).
- ``FailSoftRedisClient``: the django-redis client of the default cache when
  ``CACHE_FAIL_SOFT`` is on (the default). *Reads* and *fills* fail soft: a ``get`` during
  an outage is a miss and a ``set``/``add`` is dropped (logged), so the verified-key cache
  falls back to the database and keys keep authenticating. *Invalidations* (``delete``,
  ``delete_many``, ``clear``) and counters (``incr``) stay strict: a revocation whose cache
  invalidation cannot be done fails with 503 and its transaction rolls back, so a cache
  that comes back can never resurrect a revoked key.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("tater.faults")

RETRY_AFTER_SECONDS = 5
_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionInterrupted,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_outage(exc: BaseException | None) -> bool:
    """A lost or refused connection to the database or the cache (not a bug in a query)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, _OUTAGE_TYPES):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


# --- Redis client that fails soft on reads ------------------------------------------------

_last_warning = 0.0


def _warn(operation: str, exc: BaseException) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 10:  # one line per 10 s, not one per request
        _last_warning = now
        logger.warning("Cache unavailable, %s served without it: %s", operation, exc.__cause__ or exc)


class FailSoftRedisClient(DefaultClient):
    def get(self, key: Any, default: Any = None, version: int | None = None, client: Any = None) -> Any:
        try:
            return super().get(key, default=default, version=version, client=client)
        except ConnectionInterrupted as exc:
            _warn("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None, client: Any = None) -> Any:
        try:
            return super().get_many(keys, version=version, client=client)
        except ConnectionInterrupted as exc:
            _warn("get_many", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None, client: Any = None) -> bool:
        try:
            return super().has_key(key, version=version, client=client)
        except ConnectionInterrupted as exc:
            _warn("has_key", exc)
            return False

    def set(self, key: Any, value: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().set(key, value, *args, **kwargs)
        except ConnectionInterrupted as exc:
            _warn("set", exc)
            return False

    def add(self, key: Any, value: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().add(key, value, *args, **kwargs)
        except ConnectionInterrupted as exc:
            _warn("add", exc)
            return False

    def touch(self, key: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().touch(key, *args, **kwargs)
        except ConnectionInterrupted as exc:
            _warn("touch", exc)
            return False


# --- 503 for faults outside DRF --------------------------------------------------------------


def outage_response(request: HttpRequest) -> HttpResponse:
    from tater.api.errors import ServiceUnavailable, json_error

    if request.path.startswith("/api/"):
        response: HttpResponse = json_error(request, 503, ServiceUnavailable.code, ServiceUnavailable.message)
    else:
        response = HttpResponse(
            "<!doctype html><title>Temporarily unavailable</title><h1>Temporarily unavailable</h1>"
            "<p>Tater cannot reach one of its services. Please retry in a few seconds.</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _remember_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django sends this from inside the `except` block that caught the exception.
    exc = sys.exc_info()[1]
    if request is not None and is_outage(exc):
        request._tater_outage = exc  # type: ignore[attr-defined]


got_request_exception.connect(_remember_outage, dispatch_uid="tater.faults.remember_outage")


class ServiceFaultMiddleware:
    """Turns the 500 that Django produced for a database/cache outage (in a view or in
    another middleware, e.g. loading the session) into a 503 with ``Retry-After``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, "_tater_outage", None)
        if exc is not None and response.status_code == 500:
            logger.error("Service outage on %s %s: %s", request.method, request.path, exc)
            return outage_response(request)
        return response
