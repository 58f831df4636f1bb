"""Readiness checks: does the database answer, does Redis (when configured) answer.

The checks run concurrently, each on its own thread, and ``/readyz`` waits at most
``TATER_READY_TIMEOUT`` seconds for them: an unreachable server (a dropped SYN waits
minutes for the OS to give up) is reported ``down`` within the deadline. A check still
hanging from an earlier probe is not started again (threads cannot pile up): it stays
``down`` until it returns. Nor is one started again within ``TATER_READY_MIN_INTERVAL``
seconds of the last (1 by default): its answer stands, so a client looping on the
unauthenticated ``/readyz`` costs the database at most one new connection a second per
process, not one per request.

The database check opens its own connection, runs ``SELECT 1`` and closes it, so it proves
that a new connection can be made, and never holds one between probes. The Redis check
pings through a client built by ``tater.redis_client`` (standalone, TLS or cluster, as
configured) with the deadline as its socket timeouts.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from redis.backoff import NoBackoff
from redis.retry import Retry

from tater import redis_client
from tater.operations.app_settings import app_settings

logger = logging.getLogger("tater.operations")

OK = "ok"
DOWN = "down"

_lock = threading.Lock()
_running: dict[str, tuple[float, Future[None]]] = {}  # name → (monotonic start, check)
# A forked worker inherits the dict, not the threads behind it.
os.register_at_fork(after_in_child=_running.clear)
_redis_clients: dict[tuple[str, float], Any] = {}


def check_database() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def check_redis() -> None:
    url, timeout = app_settings.REDIS_URL, app_settings.READY_TIMEOUT
    client = _redis_clients.get((url, timeout))
    if client is None:
        # No retries: one unanswered attempt within the deadline is the answer.
        client = redis_client.build_client(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        _redis_clients[(url, timeout)] = client
    client.ping()


def checks() -> dict[str, Callable[[], None]]:
    """The dependencies this deployment has, by the name ``/readyz`` reports."""
    found: dict[str, Callable[[], None]] = {"database": check_database}
    if app_settings.REDIS_URL:
        found["redis"] = check_redis
    return found


def _start(check: Callable[[], None]) -> Future[None]:
    """Run ``check`` on a daemon thread (one that hangs never holds up the process's exit)."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            check()
        except BaseException as exc:  # reported by readiness(), whatever it was
            future.set_exception(exc)
        else:
            future.set_result(None)

    threading.Thread(target=run, name="tater-readyz", daemon=True).start()
    return future


def readiness(timeout: float | None = None) -> dict[str, str]:
    """``{"database": "ok"|"down", "redis": …}`` within ``timeout`` seconds."""
    timeout = app_settings.READY_TIMEOUT if timeout is None else timeout
    futures: dict[str, Future[None]] = {}
    now, interval = time.monotonic(), app_settings.READY_MIN_INTERVAL
    with _lock:
        for name, check in checks().items():
            started, future = _running.get(name) or (now, None)
            if future is None or (future.done() and now - started >= interval):
                future = _start(check)
                _running[name] = (now, future)
            futures[name] = future
    wait(futures.values(), timeout=timeout)
    results = {}
    for name, future in futures.items():
        if not future.done():
            logger.warning("readiness: %s did not answer within %.1f s", name, timeout)
            results[name] = DOWN
        elif (exc := future.exception()) is not None:
            logger.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
            results[name] = DOWN
        else:
            results[name] = OK
    return results
