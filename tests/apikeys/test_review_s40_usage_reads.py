"""SPEC §12 (operations at scale), §14 (usage-limited keys, exact across processes: their
counts live in the shared cache, Redis) and §5 (``GET keys/``): each usage-limited key on
a page of the key list read its count from the cache in a round trip of its own, so a page
of 200 such keys made 200 trips to Redis. The page now reads every count it shows at once:
the same cache reads for 3 usage-limited keys or 9, and each key still shows its own
remaining uses."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from apikeys import uses
from tests.factories import make_key

pytestmark = pytest.mark.django_db
READS = ("get", "get_many", "has_key")


def _reads(call: Any) -> tuple[int, Any]:
    """(cache reads, the answer) of one request: each call a client makes (``get_many`` is
    one, whatever the backend does inside it: LocMem loops over ``get``, Redis one MGET)."""
    call()  # warm the key and the per-process caches
    backend = caches["default"]
    reads = depth = 0

    def counted(original: Any) -> Any:
        def read(*args: Any, **kwargs: Any) -> Any:
            nonlocal reads, depth
            reads += depth == 0
            depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth -= 1

        return read

    patches = [mock.patch.object(backend, name, counted(getattr(backend, name))) for name in READS]
    for patch in patches:
        patch.start()
    try:
        response = call()
    finally:
        for patch in patches:
            patch.stop()
    assert response.status_code == 200, response.content
    return reads, response.json()


def _limited_keys(world: dict[str, Any], first: int, count: int) -> None:
    for n in range(first, first + count):
        key, _ = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"metered {n}", usage_limit=100
        )
        for _ in range(n % 3):
            uses.consume(key.pk, key.usage_limit, key.usage_refill)


def test_the_key_list_reads_the_usage_counts_of_3_or_9_keys_alike(world):
    client = APIClient()
    listing = lambda: client.get("/api/v1/keys/", {"limit": 200}, HTTP_X_API_KEY=world["owner_raw"])  # noqa: E731
    _limited_keys(world, 0, 3)
    few, _ = _reads(listing)
    _limited_keys(world, 3, 6)
    many, body = _reads(listing)
    assert many == few, (few, many)
    shown = {row["name"]: row["usage"]["remaining"] for row in body["keys"] if row["usage"]}
    assert shown == {f"metered {n}": 100 - n % 3 for n in range(9)}
