"""tater.cache.RedisCache: Django's cache contract on real standalone, TLS and Cluster servers.

The standalone server is the developers' Redis at 127.0.0.1:6379 (database 9, a unique key
prefix, everything written removed) when it answers, else a private one started here; TLS
and the 3-master Cluster are always private servers (tests/redis_servers.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from django.core.cache import CacheKeyWarning, caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from redis.exceptions import RedisClusterException

from tater import redis_client
from tater.cache import glob_escape, is_outage
from tests.redis_servers import RedisDeployment, redis_cluster, redis_standalone, redis_tls

__all__ = ["redis_cluster", "redis_standalone", "redis_tls"]  # the server fixtures, registered here

ALIAS = "cache-backend-tests"
DEVELOPER_REDIS = "redis://127.0.0.1:6379/9"
KINDS = ["standalone", "tls", "cluster"]


def _answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def _deployment(kind: str, request: pytest.FixtureRequest) -> RedisDeployment:
    if kind == "standalone":
        if _answers(DEVELOPER_REDIS):
            return RedisDeployment(DEVELOPER_REDIS)
        private: RedisDeployment = request.getfixturevalue("redis_standalone")
        return RedisDeployment(private.url.rsplit("/", 1)[0] + "/9", private.processes)
    fixture = {"tls": "redis_tls", "cluster": "redis_cluster"}[kind]
    deployment: RedisDeployment = request.getfixturevalue(fixture)
    return deployment


def redis_settings(deployment: RedisDeployment) -> dict[str, Any]:
    return {
        "REDIS_URL": deployment.url,
        "REDIS_CLUSTER": deployment.cluster,
        "REDIS_TLS_CA_FILE": deployment.ca_file,
        "REDIS_SOCKET_TIMEOUT": 2.0,  # loaded CI machines: no flaky timeouts
    }


def cache_settings(prefix: str, **options: Any) -> dict[str, Any]:
    from django.conf import settings

    return {
        **settings.CACHES,
        ALIAS: {"BACKEND": "tater.cache.RedisCache", "KEY_PREFIX": prefix, "OPTIONS": options},
    }


@dataclass
class Setup:
    kind: str
    deployment: RedisDeployment
    prefix: str
    raw: Any  # a separate redis-py client to look behind the cache's back

    @property
    def cache(self) -> Any:
        return caches[ALIAS]

    def stored_keys(self) -> set[str]:
        return {k.decode() for k in self.raw.scan_iter(match=f"{glob_escape(self.prefix)}:*")}


@pytest.fixture(params=KINDS)
def setup(request: pytest.FixtureRequest) -> Iterator[Setup]:
    deployment = _deployment(request.param, request)
    prefix = f"test-cache-{uuid.uuid4().hex}"
    raw = deployment.client()
    redis_client.reset_client()
    with override_settings(**redis_settings(deployment), CACHES=cache_settings(prefix)):
        try:
            yield Setup(request.param, deployment, prefix, raw)
        finally:
            leftovers = list(raw.scan_iter(match=f"{glob_escape(prefix)}:*"))
            if leftovers:
                raw.delete(*leftovers)
            raw.close()
    redis_client.reset_client()


# --- The client is the shared one ---------------------------------------------------------


def test_writes_go_through_the_shared_client(setup: Setup) -> None:
    setup.cache.set("k", "v")
    shared = redis_client.get_client()
    assert isinstance(shared, redis.RedisCluster) == setup.deployment.cluster
    assert shared.exists(setup.cache.make_key("k")) == 1
    assert setup.raw.exists(f"{setup.prefix}:1:k") == 1  # Django's key layout: prefix:version:key


def test_location_and_connection_options_are_not_taken() -> None:
    with override_settings(CACHES=cache_settings("x", CLIENT_CLASS="django_redis.client.DefaultClient")):
        with pytest.raises(ImproperlyConfigured, match="CLIENT_CLASS"):
            caches[ALIAS].get("k")


# --- Django's cache contract --------------------------------------------------------------


def test_get_set(setup: Setup) -> None:
    cache = setup.cache
    assert cache.get("missing") is None
    assert cache.get("missing", "fallback") == "fallback"
    cache.set("k", "value")
    assert cache.get("k") == "value"
    cache.set("k", {"a": [1, 2.5, None, b"\x00bytes", "ünïcode"]})
    assert cache.get("k") == {"a": [1, 2.5, None, b"\x00bytes", "ünïcode"]}
    cache.set("none", None)
    assert cache.get("none", "fallback") is None  # a stored None is a value
    cache.set("false", False)
    assert cache.get("false") is False  # bool is pickled, not stored as an int
    assert setup.raw.get(f"{setup.prefix}:1:false") != b"0"
    cache.set("int", 42)
    assert setup.raw.get(f"{setup.prefix}:1:int") == b"42"  # ints raw, as Django stores them


def test_add(setup: Setup) -> None:
    cache = setup.cache
    assert cache.add("k", "first") is True
    assert cache.add("k", "second") is False
    assert cache.get("k") == "first"
    assert cache.add("zero", "v", timeout=0) is True  # Django: added, then expired at once
    assert cache.has_key("zero") is False
    cache.set("exists", "v")
    assert cache.add("exists", "w", timeout=0) is False
    assert cache.get("exists") == "v"


def test_get_or_set(setup: Setup) -> None:
    cache = setup.cache
    assert cache.get_or_set("k", "default") == "default"
    assert cache.get_or_set("k", "other") == "default"
    assert cache.get_or_set("callable", lambda: "made") == "made"


def test_delete_and_has_key(setup: Setup) -> None:
    cache = setup.cache
    cache.set("k", "v")
    assert cache.has_key("k") is True
    assert cache.delete("k") is True
    assert cache.delete("k") is False
    assert cache.has_key("k") is False
    assert cache.get("k") is None


def test_incr_decr(setup: Setup) -> None:
    cache = setup.cache
    cache.set("n", 41)
    assert cache.incr("n") == 42
    assert cache.incr("n", 10) == 52
    assert cache.decr("n") == 51
    assert cache.decr("n", 60) == -9
    assert cache.get("n") == -9
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    with pytest.raises(ValueError, match="not found"):
        cache.decr("missing")
    assert not cache.has_key("missing")  # a failed incr does not create the key
    cache.set("text", "not a number")
    with pytest.raises(redis.ResponseError):
        cache.incr("text")


def test_incr_keeps_the_ttl_and_is_atomic(setup: Setup) -> None:
    cache = setup.cache
    cache.set("n", 0, timeout=100)
    for _ in range(5):
        cache.incr("n")
    assert cache.get("n") == 5
    assert 0 < setup.raw.ttl(cache.make_key("n")) <= 100
    # Atomic: many threads incrementing through the shared client lose no update.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: caches[ALIAS].incr("n"), range(200)))
    assert cache.get("n") == 205


def test_incr_of_an_expired_key_does_not_resurrect_it(setup: Setup) -> None:
    cache = setup.cache
    cache.set("n", 1, timeout=1)
    setup.raw.pexpire(cache.make_key("n"), 1)
    time.sleep(0.01)
    with pytest.raises(ValueError):
        cache.incr("n")
    assert setup.raw.exists(cache.make_key("n")) == 0


def test_touch(setup: Setup) -> None:
    cache = setup.cache
    key = cache.make_key("k")
    cache.set("k", "v", timeout=100)
    assert cache.touch("k", 1000) is True
    assert 100 < setup.raw.ttl(key) <= 1000
    assert cache.touch("k", None) is True  # persistent
    assert setup.raw.ttl(key) == -1
    assert cache.touch("missing", 10) is False
    assert cache.touch("k", 0) is True  # Django: a non-positive timeout expires the key
    assert cache.get("k") is None


def test_timeouts(setup: Setup) -> None:
    cache = setup.cache
    raw, make = setup.raw, cache.make_key
    cache.set("forever", "v", timeout=None)
    assert raw.ttl(make("forever")) == -1
    cache.set("zero", "v", timeout=0)  # never stored (and an existing value is removed)
    assert cache.get("zero") is None
    cache.set("forever", "w", timeout=0)
    assert cache.get("forever") is None
    cache.set("negative", "v", timeout=-5)
    assert cache.get("negative") is None
    cache.set("positive", "v", timeout=30)
    assert 0 < raw.ttl(make("positive")) <= 30
    cache.set("default", "v")  # the cache's default TIMEOUT, 300 s
    assert 290 < raw.ttl(make("default")) <= 300
    cache.set("short", "v", timeout=1)
    raw.pexpire(make("short"), 1)
    time.sleep(0.01)
    assert cache.get("short") is None
    assert cache.has_key("short") is False


def test_default_timeout_none_is_forever(setup: Setup) -> None:
    from django.conf import settings

    caches_setting = {**settings.CACHES, ALIAS: {**settings.CACHES[ALIAS], "TIMEOUT": None}}
    with override_settings(CACHES=caches_setting):
        caches[ALIAS].set("k", "v")
        assert setup.raw.ttl(caches[ALIAS].make_key("k")) == -1


def test_versions(setup: Setup) -> None:
    cache = setup.cache
    cache.set("k", "one", version=1)
    cache.set("k", "two", version=2)
    assert cache.get("k") == "one"
    assert cache.get("k", version=2) == "two"
    assert cache.incr_version("k") == 2  # moves version 1 to 2, over "two"
    assert cache.get("k") is None
    assert cache.get("k", version=2) == "one"
    assert setup.stored_keys() == {f"{setup.prefix}:2:k"}
    cache.set("n", 1, version=3)
    assert cache.incr("n", version=3) == 2
    assert cache.get_many(["n"], version=3) == {"n": 2}
    cache.delete_many(["n"], version=3)
    assert not cache.has_key("n", version=3)


def test_key_prefixes_keep_caches_apart(setup: Setup) -> None:
    from django.conf import settings

    other_prefix = f"{setup.prefix}-other"
    caches_setting = {
        **settings.CACHES,
        "other": {"BACKEND": "tater.cache.RedisCache", "KEY_PREFIX": other_prefix, "OPTIONS": {}},
    }
    with override_settings(CACHES=caches_setting):
        mine, other = caches[ALIAS], caches["other"]
        mine.set("k", "mine")
        other.set("k", "other")
        assert mine.get("k") == "mine"
        assert other.get("k") == "other"
        mine.clear()  # "<prefix>:*" does not match "<prefix>-other:*"
        assert mine.get("k") is None
        assert other.get("k") == "other"
        other.clear()
        assert other.get("k") is None


def test_get_many(setup: Setup) -> None:
    cache = setup.cache
    keys = [f"key-{i}" for i in range(50)]  # spread over many cluster slots
    for i, key in enumerate(keys[::2]):
        cache.set(key, i)
    assert cache.get_many(keys) == {key: i for i, key in enumerate(keys[::2])}
    assert cache.get_many([]) == {}
    assert cache.get_many(["nothing", "here"]) == {}
    assert cache.get_many(iter(keys[:2])) == {keys[0]: 0}


def test_set_many(setup: Setup) -> None:
    cache = setup.cache
    data = {f"key-{i}": {"i": i} for i in range(50)}
    assert cache.set_many(data) == []
    assert cache.get_many(list(data)) == data
    assert all(0 < setup.raw.ttl(cache.make_key(k)) <= 300 for k in data)
    assert cache.set_many({"a": 1, "b": "two"}, timeout=None) == []
    assert setup.raw.ttl(cache.make_key("a")) == -1
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": "two"}
    assert cache.incr("a") == 2  # ints stay raw through set_many
    cache.set_many({"a": 1, "c": 3}, timeout=5)
    assert 0 < setup.raw.ttl(cache.make_key("a")) <= 5
    cache.set_many({"a": 1, "d": 4}, timeout=0)  # Django: stored then expired at once
    assert cache.get_many(["a", "d"]) == {}
    assert cache.set_many({}) == []


def test_delete_many(setup: Setup) -> None:
    cache = setup.cache
    data = {f"key-{i}": i for i in range(50)}
    cache.set_many(data)
    cache.set("kept", "v")
    cache.delete_many(list(data) + ["never-set"])
    assert cache.get_many(list(data)) == {}
    assert cache.get("kept") == "v"
    cache.delete_many([])


def test_clear_removes_only_this_caches_keys(setup: Setup) -> None:
    cache = setup.cache
    cache.set_many({f"key-{i}": i for i in range(2500)})  # more than one SCAN step and DEL batch
    cache.set("other-version", "v", version=7)
    foreign = [f"{setup.prefix}-foreign:{i}" for i in range(20)] + [f"x{setup.prefix}:1:k"]
    for key in foreign:
        setup.raw.set(key, b"v", ex=60)
    try:
        cache.clear()  # Django documents no return value
        assert setup.stored_keys() == set()
        assert cache.get("key-1") is None
        assert all(setup.raw.exists(key) for key in foreign)  # FLUSHDB would have taken these
    finally:
        setup.raw.delete(*foreign)


def test_clear_with_glob_characters_in_the_prefix(setup: Setup) -> None:
    from django.conf import settings

    prefix = f"{setup.prefix}[*?]"
    lookalike = f"{setup.prefix}x:1:k"  # what an unescaped "[*?]" would match
    caches_setting = {**settings.CACHES, "glob": {"BACKEND": "tater.cache.RedisCache", "KEY_PREFIX": prefix}}
    setup.raw.set(lookalike, b"v", ex=60)
    with override_settings(CACHES=caches_setting):
        cache = caches["glob"]
        cache.set("k", "v")
        assert setup.raw.exists(f"{prefix}:1:k")
        cache.clear()
        assert cache.get("k") is None
    assert setup.raw.exists(lookalike)
    setup.raw.delete(lookalike)


def test_clear_with_a_custom_key_function_needs_a_pattern(setup: Setup) -> None:
    from django.conf import settings

    params = {"BACKEND": "tater.cache.RedisCache", "KEY_FUNCTION": lambda key, prefix, version: f"{prefix}/{key}"}
    caches_setting = {
        **settings.CACHES,
        "custom": {**params, "KEY_PREFIX": setup.prefix},
        "custom-with-match": {**params, "KEY_PREFIX": setup.prefix, "OPTIONS": {"clear_match": f"{setup.prefix}/*"}},
    }
    with override_settings(CACHES=caches_setting):
        caches["custom"].set("k", "v")
        with pytest.raises(ImproperlyConfigured, match="clear_match"):
            caches["custom"].clear()
        assert caches["custom-with-match"].get("k") == "v"
        caches["custom-with-match"].clear()
        assert caches["custom"].get("k") is None


def test_memcached_unsafe_keys_warn_as_in_django(setup: Setup) -> None:
    with pytest.warns(CacheKeyWarning):
        setup.cache.set("x" * 300, "v")
    with pytest.warns(CacheKeyWarning):
        assert setup.cache.get("x" * 300) == "v"


def test_async_api(setup: Setup) -> None:
    import asyncio

    async def run() -> tuple[Any, Any]:
        await setup.cache.aset("k", "v")
        return await setup.cache.aget("k"), await setup.cache.aget_many(["k", "missing"])

    assert asyncio.run(run()) == ("v", {"k": "v"})


# --- Fail soft ----------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", [False, True], ids=["standalone", "cluster"])
def test_fail_soft_reads_and_fills_survive_an_outage(
    cluster: bool, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis that does not answer: reads miss, fills are dropped, invalidations raise."""
    import tater.cache
    from tests.redis_servers import free_port

    monkeypatch.setattr(tater.cache, "_last_warning", float("-inf"))

    down = RedisDeployment(f"redis://127.0.0.1:{free_port()}/0", cluster=cluster)
    redis_client.reset_client()
    with override_settings(
        **(redis_settings(down) | {"REDIS_SOCKET_TIMEOUT": 0.2}), CACHES=cache_settings("soft", fail_soft=True)
    ):
        cache = caches[ALIAS]
        with caplog.at_level(logging.WARNING, logger="tater.cache"):
            assert cache.get("k", "default") == "default"
            assert cache.get_many(["k"]) == {}
            assert cache.has_key("k") is False
            assert cache.set("k", "v") is None
            assert cache.add("k", "v") is False
            assert cache.touch("k") is False
        assert caplog.text.count("Cache unavailable, get served without it") == 1  # once per 10 s
        for strict in (
            lambda: cache.delete("k"),
            lambda: cache.delete_many(["k"]),
            cache.clear,
            lambda: cache.incr("k"),
        ):
            with pytest.raises((redis.RedisError, RedisClusterException)) as raised:
                strict()
            assert is_outage(raised.value)
    with override_settings(**(redis_settings(down) | {"REDIS_SOCKET_TIMEOUT": 0.2}), CACHES=cache_settings("strict")):
        with pytest.raises((redis.RedisError, RedisClusterException)) as raised:
            caches[ALIAS].get("k")
        assert is_outage(raised.value)
    redis_client.reset_client()


def test_fail_soft_does_not_hide_bugs(setup: Setup) -> None:
    from django.conf import settings

    caches_setting = {**settings.CACHES, ALIAS: {**settings.CACHES[ALIAS], "OPTIONS": {"fail_soft": True}}}
    with override_settings(CACHES=caches_setting):
        caches[ALIAS].set("text", "not a number")
        with pytest.raises(redis.ResponseError):
            caches[ALIAS].incr("text")


# --- The application on a cluster, end to end ---------------------------------------------


@pytest.mark.django_db
def test_the_app_creates_and_uses_a_key_on_a_cluster(redis_cluster: RedisDeployment) -> None:
    """With the default cache on the cluster (the settings' own CACHES shape), creating a
    user, tenant, org and API key through the service layer works (MovedError on
    django-redis), and the key authenticates."""
    from rest_framework.test import APIClient

    from tests.factories import make_key, make_tenant

    prefix = f"test-e2e-{uuid.uuid4().hex}"
    caches_setting = {
        "default": {"BACKEND": "tater.cache.RedisCache", "KEY_PREFIX": prefix, "OPTIONS": {"fail_soft": False}}
    }
    raw = redis_cluster.client()
    redis_client.reset_client()
    try:
        with override_settings(REDIS_URL=redis_cluster.url, REDIS_CLUSTER=True, CACHES=caches_setting):
            tenant, owner, (org,) = make_tenant(name="Cluster", orgs=1)
            api_key, raw_key = make_key(user=owner, tenant=tenant, org=org, name="cluster key")
            assert api_key.pk is not None and raw_key
            response = APIClient().get("/api/v1/auth/validate", HTTP_X_API_KEY=raw_key)
            assert response.status_code == 200, response.content
            assert response.json()["id"] == api_key.public_id
    finally:
        leftovers = list(raw.scan_iter(match=f"{prefix}:*"))
        if leftovers:
            raw.delete(*leftovers)
        raw.close()
        redis_client.reset_client()
