"""SPEC §11: ``DATABASE_URL`` and ``REDIS_URL`` switch to the production setup. A malformed
one used to start the app regardless: ``REDIS_URL=redis://:bad`` or ``http://cache`` failed
every API request with a 500 (a ``ValueError`` from redis-py on first use), ``postgres://``
(no database named) likewise on the first query, and ``redis://cache/x`` quietly used
database 0. Now such a value stops the start with ``ImproperlyConfigured`` naming the
variable, without printing the password the URL may carry."""

from __future__ import annotations

import pytest

from tests.tater.starting import start


@pytest.mark.parametrize(
    "url",
    [
        "redis://:s3cret-pw@cache.internal:6379/0",
        "rediss://cache.internal:6380/2",
        "redis://127.0.0.1",
        "unix:///run/redis/redis.sock",
    ],
)
def test_a_redis_url_is_taken(url: str) -> None:
    done = start("settings.DATABASES['default']['ENGINE']", "settings.REDIS_URL or '-'", REDIS_URL=url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == url


@pytest.mark.parametrize(
    "url",
    [
        "redis://:bad",
        "redis://",
        "http://cache.internal:6379/0",
        "cache.internal:6379",
        "redis://:s3cret-pw@cache.internal:63x9/0",
        "redis://:s3cret-pw@cache.internal:99999/0",
        "redis://cache.internal:6379/x",
        "unix://",
    ],
)
def test_a_malformed_redis_url_stops_the_start_naming_it(url: str) -> None:
    done = start("settings.DATABASES['default']['ENGINE']", "settings.REDIS_URL or '-'", REDIS_URL=url)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: REDIS_URL "), done.stderr[-600:]
    assert "s3cret-pw" not in done.stderr


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgres://tater:s3cret-pw@db.internal:5432/tater", "django.db.backends.postgresql"),
        ("postgres:///tater", "django.db.backends.postgresql"),
        ("sqlite:////tmp/tater-review.sqlite3", "django.db.backends.sqlite3"),
    ],
)
def test_a_database_url_is_taken(url: str, engine: str) -> None:
    done = start("settings.DATABASES['default']['ENGINE']", "settings.REDIS_URL or '-'", DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == engine


@pytest.mark.parametrize(
    "url",
    [
        "postgres://",
        "postgres://tater:s3cret-pw@db.internal:5432/",
        "postgres://tater:s3cret-pw@db.internal:54x2/tater",
        "db.internal/tater",
        "postgress://db.internal/tater",
    ],
)
def test_a_malformed_database_url_stops_the_start_naming_it(url: str) -> None:
    done = start("settings.DATABASES['default']['ENGINE']", "settings.REDIS_URL or '-'", DATABASE_URL=url)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: DATABASE_URL "), done.stderr[-600:]
    assert "s3cret-pw" not in done.stderr
