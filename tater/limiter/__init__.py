"""Rate limiting (SPEC §6): one interface, one decision function, backends behind it.

An entity says who it is and which rules apply; :func:`check` admits or refuses it under
all its rules at once::

    from tater import limiter
    from tater.limiter import Entity, Rule, keys

    entity = Entity("key:3fd8…", [Rule(60, 300), Rule(3600, 10_000)])
    gen = keys.tagged(entity.key(), "gen")
    decision = limiter.check(entity, reads=[gen])
    if not decision.admitted:
        ...  # 429 with decision.headers() (Retry-After included)
    generation = decision.reads[gen]

Rules up to ``TATER_RATELIMIT_ROLLING_MAX_SECONDS`` (60) use rolling windows: in no
interval of that length are more than the limit admitted. Longer rules use fixed windows.
The backend (in-process, Django cache, Redis standalone/TLS/Cluster) is chosen once from
settings; see ``docs/ratelimit.md`` and :mod:`tater.limiter.limiter`.

This package is platform core: it imports Django, redis-py and the standard library only.
"""

from __future__ import annotations

from tater.limiter import keys
from tater.limiter.base import RateLimiterBackend
from tater.limiter.cache import CacheBackend
from tater.limiter.core import Decision, Entity, LimiterUnavailable, RateLimitedEntity, Rule, RuleState
from tater.limiter.inprocess import InProcessBackend
from tater.limiter.limiter import (
    Limiter,
    admitting_on_outage,
    backend_from_settings,
    check,
    get_limiter,
    peek,
    refund,
    reset,
)
from tater.limiter.redis_backend import RedisBackend

__all__ = [
    "CacheBackend",
    "Decision",
    "Entity",
    "InProcessBackend",
    "Limiter",
    "LimiterUnavailable",
    "RateLimitedEntity",
    "RateLimiterBackend",
    "RedisBackend",
    "Rule",
    "RuleState",
    "admitting_on_outage",
    "backend_from_settings",
    "check",
    "get_limiter",
    "keys",
    "peek",
    "refund",
    "reset",
]
