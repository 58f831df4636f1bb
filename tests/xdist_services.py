"""A Redis database and key prefix of its own for each pytest-xdist worker.

Loaded with ``-p tests.xdist_services`` (``./run test`` does), so it runs before Django reads
its settings: under xdist, ``PYTEST_XDIST_WORKER`` (``gw0``, ``gw1``, …) is already set then.
pytest-django gives each worker its own test database (``test_<name>_gw0``); the suite's
Redis state (the cache, the limiter's counts, key-check generations) needs the same, since
every test starts by clearing what it finds under its prefix. A worker's prefix is the
configured one plus its name; with a standalone ``REDIS_URL`` it also gets the database
after the configured one (``/0`` → ``/1`` for ``gw0``) while there is one. Without xdist,
or without ``REDIS_URL``, nothing changes.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # redis-server's default `databases`


def _worker_number(worker: str) -> int | None:
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _worker_url(url: str, number: int) -> str:
    """``url`` on the database ``number + 1`` after its own, or as it is when there is none."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):  # unix://: the path is the socket's
        return url
    path = parts.path.strip("/")
    base = int(path) if path.isascii() and path.isdigit() else 0
    db = base + 1 + number
    if db >= REDIS_DATABASES:
        return url
    return urlunsplit(parts._replace(path=f"/{db}"))


def _isolate() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = _worker_number(worker)
    if number is None or not os.environ.get("REDIS_URL"):
        return
    os.environ["CACHE_KEY_PREFIX"] = f"{os.environ.get('CACHE_KEY_PREFIX', 'tater')}-{worker}"
    if os.environ.get("REDIS_CLUSTER", "").lower() not in ("1", "true", "yes", "on"):
        os.environ["REDIS_URL"] = _worker_url(os.environ["REDIS_URL"], number)


_isolate()
