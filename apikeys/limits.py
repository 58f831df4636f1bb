"""Which rate limits apply to an API key (SPEC §6), and the key as the limiter sees it: its
entity and the names of what the key check keeps beside its counters (one cluster slot)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed

from apikeys.principal import KeyPrincipal
from tater.limiter import Rule, keys


class KeyEntity:
    """A key as the rate limiter sees it: counted under its current secret's digest,
    whichever of its secrets was presented, with its plan's and its own limits."""

    __slots__ = ("_key", "_rules")

    def __init__(self, principal: KeyPrincipal) -> None:
        self._key = entity_key(principal.digest)
        self._rules = rules_for(principal.tenant_plan, principal.rate_limit)

    def key(self) -> str:
        return self._key

    def rules(self) -> Sequence[Rule]:
        return self._rules


def entity_key(digest: str) -> str:
    return f"key:{digest}"


@lru_cache(maxsize=65_536)
def gen_name(digest: str) -> str:
    """The digest's generation (``apikeys.keycheck``), read in the round trip that counts it."""
    return keys.tagged(entity_key(digest), "gen")


@lru_cache(maxsize=65_536)
def blob_name(digest: str) -> str:
    """The principal verified for the digest, shared with processes that have not seen it."""
    return keys.tagged(entity_key(digest), "principal")


@lru_cache(maxsize=512)
def rules_for(plan: str, override: str = "") -> tuple[Rule, ...]:
    """The plan's per-minute and per-hour limits, tightened (never loosened) by a key's own."""
    from apikeys.services import parse_rate_limit
    from tater.exceptions import InvalidInput

    table = settings.TATER_PLAN_RATE_LIMITS
    per_minute, per_hour = table.get(plan) or table["free"]
    limits = {60: per_minute, 3600: per_hour}
    if override:
        try:
            count, seconds = parse_rate_limit(override)
        except InvalidInput:
            count = 0  # the services refuse bad values; an old bad row must not break requests
        if count:
            limits[seconds] = min(count, limits.get(seconds, count))
    return tuple(Rule(seconds, limit) for seconds, limit in sorted(limits.items()))


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "TATER_RATELIMIT_KEY_PREFIX":
        gen_name.cache_clear()
        blob_name.cache_clear()
    if setting == "TATER_PLAN_RATE_LIMITS":
        rules_for.cache_clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="apikeys.limits.caches")
