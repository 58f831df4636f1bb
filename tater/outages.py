"""What counts as an infrastructure outage: a lost or refused connection to the database or
the cache, retryable after ``RETRY_AFTER_SECONDS``. Read by the API exception handler
(``tater.api.errors``), ``tater.faults``' middleware and the other surfaces that answer 503."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from redis.exceptions import ClusterDownError, ClusterError, RedisClusterException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tater.limiter import LimiterUnavailable

RETRY_AFTER_SECONDS = 5
_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ClusterError,
    ClusterDownError,
    RedisClusterException,
    RedisConnectionError,
    RedisTimeoutError,
    LimiterUnavailable,
)


def is_outage(exc: BaseException | None) -> bool:
    """A lost or refused connection to the database or the cache (not a bug in a query)."""
    return caused_by(exc, _OUTAGE_TYPES)


def caused_by(exc: BaseException | None, types: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc`` or one of the exceptions it was raised from (or during) is one of
    ``types`` (a client that wraps a lost connection in its own error is still an outage)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, types):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
