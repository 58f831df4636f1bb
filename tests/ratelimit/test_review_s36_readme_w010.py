"""README "Design": without Redis, the key memo's invalidation works across the processes
of one host on SQLite (a memory-mapped file beside the database), not on PostgreSQL.

tater.W010 said "key revocation is seen by this process only" on every database, so an
operator of the embedded default was told revocation does not reach the other workers,
contradicting the README. The warning now says what holds for the database in use.
"""

from __future__ import annotations

import pytest

from tater.checks import shared_cache_check

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def prod(settings, monkeypatch):
    settings.DEBUG = False
    settings.REDIS_URL = ""
    settings.CACHES = LOCMEM
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    return settings


def w010(settings, monkeypatch, engine: str, name: str) -> str:
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", engine)
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", name)
    (warning,) = [w for w in shared_cache_check(None) if w.id == "tater.W010"]
    return warning.msg


def test_sqlite_file_revocation_is_host_wide(prod, monkeypatch):
    msg = w010(prod, monkeypatch, "django.db.backends.sqlite3", "/srv/tater/var/tater.sqlite3")
    assert "this process only" not in msg
    assert "every process on this host" in msg


def test_postgresql_without_redis_revocation_is_per_process(prod, monkeypatch):
    msg = w010(prod, monkeypatch, "django.db.backends.postgresql", "tater")
    assert "key revocation is seen by this process only" in msg
