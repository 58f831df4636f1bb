"""The backend is chosen once, from settings; callers never know which."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.test import override_settings

from tater import limiter
from tater.limiter import CacheBackend, Entity, InProcessBackend, RedisBackend, Rule, backend_from_settings


def test_in_process_without_redis() -> None:
    with override_settings(REDIS_URL="", TATER_RATELIMIT_BACKEND=""):
        assert isinstance(backend_from_settings(), InProcessBackend)


def test_redis_when_a_redis_url_is_configured() -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", TATER_RATELIMIT_BACKEND=""):
        assert isinstance(backend_from_settings(), RedisBackend)  # builds no connection yet


def test_a_named_backend_wins() -> None:
    other = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "selection-other"}
    with override_settings(
        REDIS_URL="redis://127.0.0.1:1/0",
        TATER_RATELIMIT_BACKEND="cache",
        TATER_RATELIMIT_CACHE="other",
        CACHES={**settings.CACHES, "other": other},
    ):
        backend = backend_from_settings()
        assert isinstance(backend, CacheBackend) and backend.alias == "other"
    with override_settings(TATER_RATELIMIT_BACKEND="inprocess", TATER_RATELIMIT_ROLLING_MAX_SECONDS=120):
        backend = backend_from_settings()
        assert isinstance(backend, InProcessBackend) and backend.rolling_max_seconds == 120
    with override_settings(TATER_RATELIMIT_BACKEND="memcached"), pytest.raises(ValueError, match="memcached"):
        backend_from_settings()


def test_chosen_once_until_the_settings_change() -> None:
    first = limiter.get_limiter()
    assert limiter.get_limiter() is first
    with override_settings(TATER_RATELIMIT_BACKEND="inprocess"):
        assert limiter.get_limiter() is not first
        assert isinstance(limiter.get_limiter().backend, InProcessBackend)


def test_the_configured_default_end_to_end() -> None:
    """The module-level functions on whatever this run configures (REDIS_URL: Redis db)."""
    expected = RedisBackend if settings.REDIS_URL else InProcessBackend
    assert isinstance(limiter.get_limiter().backend, expected)
    assert bool(os.environ.get("REDIS_URL")) == isinstance(limiter.get_limiter().backend, RedisBackend)
    entity = Entity(f"test:{uuid.uuid4().hex}", [Rule(60, 2), Rule(3600, 100)])
    try:
        decisions = [limiter.check(entity) for _ in range(3)]
        assert [d.admitted for d in decisions] == [True, True, False]
        assert limiter.peek(entity).remaining == 0
        limiter.refund(entity, decisions[1].receipt)
        assert limiter.check(entity).admitted
    finally:
        limiter.reset(entity)
