"""Fixtures of the limiter tests: every backend behind the same contract, on real servers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from tater.limiter import CacheBackend, Entity, InProcessBackend, Limiter, RedisBackend, Rule
from tests.redis_servers import RedisDeployment, redis_cluster, redis_standalone, redis_tls

__all__ = ["redis_cluster", "redis_standalone", "redis_tls"]  # the server fixtures, registered here

CACHE_ALIAS = "limiter-tests"
BACKENDS = ["inprocess", "cache", "redis", "redis-cluster", "redis-tls"]
REDIS_FIXTURES = {"redis": "redis_standalone", "redis-cluster": "redis_cluster", "redis-tls": "redis_tls"}


@pytest.fixture
def locmem_cache() -> Iterator[str]:
    """A private locmem cache alias next to the configured ones."""
    from django.conf import settings

    caches_setting = {
        **settings.CACHES,
        CACHE_ALIAS: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limiter-tests"},
    }
    with override_settings(CACHES=caches_setting):
        caches[CACHE_ALIAS].clear()
        yield CACHE_ALIAS
        caches[CACHE_ALIAS].clear()


@dataclass
class Harness:
    """One backend under test: its limiter, fresh entities, and a way to store ``reads``."""

    kind: str
    limiter: Limiter
    write: Callable[..., Any]
    client: Any = None  # the redis-py client of the Redis kinds
    entities: list[Entity] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def entity(self, rules: Sequence[Rule], *, name: str = "") -> Entity:
        entity = Entity(f"test:{name or uuid.uuid4().hex}", rules)
        self.entities.append(entity)
        return entity

    def store(self, key: str, value: Any) -> None:
        self.write(key, value)
        self.written.append(key)

    @property
    def fake_time(self) -> bool:
        """Whether the backend takes ``now`` (all but the cache backend, which runs on the cache's clock)."""
        return self.kind != "cache"


def _harness(kind: str, request: pytest.FixtureRequest) -> Harness:
    if kind == "inprocess":
        alias = request.getfixturevalue("locmem_cache")
        return Harness(kind, Limiter(InProcessBackend(cache_alias=alias), fail_open=False), caches[alias].set)
    if kind == "cache":
        alias = request.getfixturevalue("locmem_cache")
        return Harness(kind, Limiter(CacheBackend(alias), fail_open=False), caches[alias].set)
    deployment: RedisDeployment = request.getfixturevalue(REDIS_FIXTURES[kind])
    client = deployment.client()
    return Harness(kind, Limiter(RedisBackend(client), fail_open=False), client.set, client)


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = _harness(request.param, request)
    yield h
    for entity in h.entities:
        h.limiter.reset(entity)
    if h.client is not None:
        for key in h.written:
            h.client.delete(key)
        h.client.close()


@pytest.fixture
def make_harness(request: pytest.FixtureRequest, locmem_cache: str) -> Iterator[Callable[[str], Harness]]:
    """Build harnesses of given kinds inside a test (tests over a subset of the backends)."""
    made: list[Harness] = []

    def make(kind: str) -> Harness:
        made.append(_harness(kind, request))
        return made[-1]

    yield make
    for h in made:
        for entity in h.entities:
            h.limiter.reset(entity)
        if h.client is not None:
            h.client.close()
