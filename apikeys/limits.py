"""Which rate limits apply to an API key (SPEC §6), and the key as the limiter sees it."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings

from apikeys.principal import KeyPrincipal
from tater.limiter import Rule


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
