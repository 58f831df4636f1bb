"""The cache backend on stores it cannot trust (found by review): a cache whose client
fails must meet the outage policy like Redis does, not escape as a 500; a cache without an
atomic ``incr`` (the database cache) must be refused, not over-admit concurrent requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tater.limiter import CacheBackend, Entity, Limiter, LimiterUnavailable, Rule, keys


@pytest.fixture
def dead_cache() -> Iterator[str]:
    """A Redis cache nobody listens for (port 1 on loopback: refused at once)."""
    caches = {
        **settings.CACHES,
        "dead": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    with override_settings(CACHES=caches):
        yield "dead"


def test_an_unreachable_cache_fails_open_when_so_configured(dead_cache: str) -> None:
    decision = Limiter(CacheBackend(dead_cache), fail_open=True).check(Entity("t:x", [Rule(60, 5)]))
    assert decision.admitted and decision.degraded


def test_an_unreachable_cache_is_an_outage_when_failing_closed(dead_cache: str) -> None:
    limiter = Limiter(CacheBackend(dead_cache), fail_open=False)
    with pytest.raises(LimiterUnavailable):
        limiter.check(Entity("t:x", [Rule(60, 5)]))
    with pytest.raises(LimiterUnavailable):  # key changes then wait in the database (keycheck)
        limiter.write({keys.tagged("t:x", "gen"): "1"}, ttl=60)
    with pytest.raises(LimiterUnavailable):
        limiter.read([keys.tagged("t:x", "gen")])


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.db.DatabaseCache", "django.core.cache.backends.filebased.FileBasedCache"],
)
def test_a_cache_without_atomic_incr_is_refused(backend: str, tmp_path: object) -> None:
    caches = {**settings.CACHES, "weak": {"BACKEND": backend, "LOCATION": str(tmp_path) if "file" in backend else "t"}}
    with override_settings(CACHES=caches), pytest.raises(ImproperlyConfigured, match="no atomic incr"):
        CacheBackend("weak")
