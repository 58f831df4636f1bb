"""SPEC §14 (usage-limited keys) and §3 (never a 500 for what the caller did right): a shared
cache may drop a counter at any moment (an eviction under ``maxmemory``, its period's expiry).
A counter that vanishes between being created and being counted is created again: the
request is answered, its use counted, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tests.factories import make_key

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"


class EvictsOnce:
    """The default cache, which evicts the next usage counter right after creating it."""

    def __init__(self) -> None:
        self.add = cache.add
        self.evicted: list[str] = []

    def __call__(self, key: Any, value: Any, timeout: Any = None, version: Any = None) -> bool:
        added = self.add(key, value, timeout, version)
        if "uses" in str(key) and not self.evicted:
            cache.delete(key, version)
            self.evicted.append(str(key))
        return added


def test_a_usage_counter_evicted_mid_request_is_counted_not_a_500(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2)
    evicts = EvictsOnce()
    monkeypatch.setattr(cache, "add", evicts)
    api.raise_request_exception = False
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert evicts.evicted, "the test evicted no counter"
    assert r.status_code == 200, r.content
    assert r.json()["usage"]["remaining"] == 1
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["usage"]["remaining"]) == (200, 0)
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (429, "USAGE_EXHAUSTED")


def test_a_usage_counter_evicted_before_its_overdraft_is_given_back_still_refuses(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=1)
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    incr, evicted = cache.incr, []

    def incr_then_evict(key: Any, delta: int = 1, version: Any = None) -> int:
        value = incr(key, delta, version)
        if "uses" in str(key):
            cache.delete(key, version)
            evicted.append(key)
        return value

    monkeypatch.setattr(cache, "incr", incr_then_evict)
    api.raise_request_exception = False
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert evicted, "the test evicted no counter"
    assert (r.status_code, r.json()["error"]) == (429, "USAGE_EXHAUSTED")
