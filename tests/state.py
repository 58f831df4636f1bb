"""Per-test (or per-generated-case) reset of what outlives a database rollback: the cache,
the rate limiter's counts (lockouts included), this process's memo of verified keys and
its pending usage counts."""

from __future__ import annotations

from django.core.cache import cache

from apikeys import keycheck, usage
from tater import limiter


def reset_shared_state() -> None:
    cache.clear()
    usage.reset_local_memo()
    keycheck.reset()
    limiter.get_limiter().backend.clear()
