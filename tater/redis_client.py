"""The process-wide Redis client, built from settings in this one place.

``REDIS_URL`` names the server (``redis://`` or TLS ``rediss://``); with ``REDIS_CLUSTER``
it names any node of a Redis Cluster and the client is a ``redis.cluster.RedisCluster``
that discovers the others. TLS verifies the server against ``REDIS_TLS_CA_FILE`` (the
system CAs when empty) and presents ``REDIS_TLS_CERT_FILE`` / ``REDIS_TLS_KEY_FILE`` when
set (servers that require client certificates). ``REDIS_SOCKET_TIMEOUT`` and
``REDIS_SOCKET_CONNECT_TIMEOUT`` (seconds) bound every call, and ``REDIS_RETRIES`` caps
redis-py's retries (its default, 10 with backoff, would turn an outage into seconds of
waiting per request).

Only redis-py's public API is used. Forks are safe: redis-py's connection pools compare
the process id on every checkout and start afresh in a child (tests/limiter verify it for
both client kinds), so a client built before gunicorn forks its workers is not shared.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

RedisClient = redis.Redis | RedisCluster

SETTINGS = frozenset(
    {
        "REDIS_URL",
        "REDIS_CLUSTER",
        "REDIS_TLS_CA_FILE",
        "REDIS_TLS_CERT_FILE",
        "REDIS_TLS_KEY_FILE",
        "REDIS_SOCKET_TIMEOUT",
        "REDIS_SOCKET_CONNECT_TIMEOUT",
        "REDIS_RETRIES",
    }
)

_lock = threading.Lock()
_client: RedisClient | None = None


def get_client() -> RedisClient:
    """The process-wide client for ``REDIS_URL`` (built on first use, then shared by threads)."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client = build_client()
            client = _client
    return client


def build_client(url: str | None = None, *, cluster: bool | None = None, **overrides: Any) -> RedisClient:
    """A new client from settings; ``url``, ``cluster`` and redis-py options may override them.

    Building a cluster client connects to discover the nodes (and raises if none answers);
    a standalone client connects on first use.
    """
    url = url if url is not None else getattr(settings, "REDIS_URL", "")
    if not url:
        raise ImproperlyConfigured("REDIS_URL is not set")
    cluster = cluster if cluster is not None else bool(getattr(settings, "REDIS_CLUSTER", False))
    options = client_options(url) | overrides
    if cluster:
        return RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def client_options(url: str) -> dict[str, Any]:
    """redis-py keyword arguments shared by standalone and cluster clients."""
    timeout = float(getattr(settings, "REDIS_SOCKET_TIMEOUT", 0.5))
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": float(getattr(settings, "REDIS_SOCKET_CONNECT_TIMEOUT", timeout)),
        "retry": Retry(NoBackoff(), int(getattr(settings, "REDIS_RETRIES", 1))),
    }
    if url.startswith("rediss://"):
        for option, setting in (
            ("ssl_ca_certs", "REDIS_TLS_CA_FILE"),
            ("ssl_certfile", "REDIS_TLS_CERT_FILE"),
            ("ssl_keyfile", "REDIS_TLS_KEY_FILE"),
        ):
            value = getattr(settings, setting, "")
            if value:
                options[option] = str(value)
    return options


def reset_client() -> None:
    """Close and forget the shared client; the next :func:`get_client` builds a new one."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        client.close()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in SETTINGS:
        reset_client()
