"""Which rate limits apply to an API key (SPEC §6), and the key as the limiter sees it: its
entity and the names of what the key check keeps beside its counters (one cluster slot)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed

from apikeys.principal import KeyPrincipal
from tater import limiter
from tater.exceptions import InvalidInput
from tater.limiter import Entity, LimiterUnavailable, Rule, keys

_RATE = re.compile(r"^(\d{1,7})/(\d{0,6})(s|sec|second|m|min|minute|h|hour)$")
_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


class KeyEntity:
    """A key as the rate limiter sees it: counted under its current secret's digest,
    whichever of its secrets was presented, with its plan's and its own limits
    (:func:`key_entity` builds it)."""

    __slots__ = ("_key", "_rules")

    def __init__(self, digest: str, rules: tuple[Rule, ...]) -> None:
        self._key = entity_key(digest)
        self._rules = rules

    def key(self) -> str:
        return self._key

    def rules(self) -> Sequence[Rule]:
        return self._rules


def key_entity(principal: KeyPrincipal) -> KeyEntity:
    """The principal's entity, built once per current secret, plan and override."""
    return _key_entity(principal.digest, principal.tenant_plan, principal.rate_limit)


@lru_cache(maxsize=65_536)
def _key_entity(digest: str, plan: str, override: str) -> KeyEntity:
    return KeyEntity(digest, rules_for(plan, override))


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


def parse_rate_limit(value: str) -> tuple[int, int]:
    """``"5/min"``, ``"1000/hour"``, ``"5/60s"`` → (requests, window seconds)."""
    match = _RATE.match(value.strip().lower())
    if not match:
        raise InvalidInput('Rate limit must look like "5/min", "1000/hour" or "5/60s"', field="rate_limit")
    count, multiplier, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or multiplier < 1:
        raise InvalidInput("Rate limit must allow at least one request", field="rate_limit")
    return count, multiplier * _RATE_UNITS[unit]


def carry_over(old_digest: str, new_digest: str, plan: str, override: str = "") -> None:
    """A rotated key keeps what it has used: its new secret's entity is charged, rule by rule,
    with the old secret's count in each rule's current window, stamped now (a charge may
    outlive the requests it stands for by up to one window; never is quota freed). Where the
    rolling rules share one log of times (in-process, Redis), the longest is charged first
    and a shorter one sees that charge too: an override under a minute may refuse for up to
    its own window after the rotation. A store outage charges nothing (the limits fail open
    or closed then)."""
    rules = rules_for(plan, override)
    old, new = Entity(entity_key(old_digest), rules), Entity(entity_key(new_digest), rules)
    lim = limiter.get_limiter()
    try:
        room = {state.rule: state.remaining for state in lim.peek(new).states}
        used = sorted(lim.peek(old).states, key=lambda s: (not lim.backend.is_rolling(s.rule), -s.rule.seconds))
        for state in used:  # rolling rules first, the longest first; then fixed ones
            cost = min(state.used, room[state.rule])
            if cost:
                lim.check(Entity(new.key(), [state.rule]), cost=cost)  # refused: it already holds enough
        # Checked once with every rule and given back: the store remembers the whole set.
        lim.refund(new, lim.check(new).receipt)
    except LimiterUnavailable:
        pass  # nothing to carry: requests are admitted uncounted (or refused) meanwhile


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "TATER_RATELIMIT_KEY_PREFIX":
        gen_name.cache_clear()
        blob_name.cache_clear()
    if setting == "TATER_PLAN_RATE_LIMITS":
        rules_for.cache_clear()
        _key_entity.cache_clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="apikeys.limits.caches")
