"""Store keys of the rate limiter: one Redis Cluster hash slot per entity.

Every key the limiter touches for an entity, and every extra key a caller asks it to read in
the same round trip (``reads``), has the form ``rl:{<entity key>}:<suffix>`` (``rl`` being
:func:`prefix`). Redis Cluster
hashes only the part between the first ``{`` and the next ``}`` (the *hash tag*), so all of
an entity's keys live in one slot and one Lua script call may touch them all. That is why
entity keys may not contain braces, and why callers build their ``reads`` keys with
:func:`tagged` instead of by hand.

Suffixes starting with ``_`` belong to the limiter (``_log``, ``_win``, ``_s60x5:3``...);
:func:`tagged` refuses them so a caller's key can never overwrite a counter.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULT_PREFIX = "rl"


def prefix() -> str:
    """``TATER_RATELIMIT_KEY_PREFIX`` (default ``rl``): deployments sharing one Redis keep
    apart by it (tests use one per run). Read once per setting change."""
    if not _prefix:
        _prefix.append(str(getattr(settings, "TATER_RATELIMIT_KEY_PREFIX", DEFAULT_PREFIX) or DEFAULT_PREFIX))
    return _prefix[0]


_prefix: list[str] = []


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "TATER_RATELIMIT_KEY_PREFIX":
        _prefix.clear()


def check_entity_key(entity_key: str) -> None:
    """Refuse entity keys that would break the hash tag (empty, or holding a brace)."""
    if not entity_key or "{" in entity_key or "}" in entity_key:
        raise ValueError(f"rate-limit entity key must be non-empty and brace-free, got {entity_key!r}")


def tagged(entity_key: str, suffix: str) -> str:
    """A caller's key in the entity's hash slot, e.g. ``tagged("key:ab12", "gen")``.

    Pass such keys as ``reads`` to :func:`tater.limiter.check` (and write them with the same
    Redis client) to read them in the round trip that rate-limits the entity.
    """
    check_entity_key(entity_key)
    if not suffix or suffix.startswith("_"):
        raise ValueError(f"suffix must be non-empty and not start with '_' (reserved), got {suffix!r}")
    return f"{prefix()}:{{{entity_key}}}:{suffix}"


def internal(entity_key: str, suffix: str) -> str:
    """One of the limiter's own keys for an entity (the caller validated ``entity_key``)."""
    return f"{prefix()}:{{{entity_key}}}:_{suffix}"


def check_reads(entity_key: str, reads: Sequence[str]) -> None:
    """Every extra key to read must be a :func:`tagged` key of this very entity.

    On Redis Cluster a key of another slot would fail the whole call (CROSSSLOT); checking
    here makes that bug fail the same way on every backend and deployment.
    """
    own = f"{prefix()}:{{{entity_key}}}:"
    for read in reads:
        if not read.startswith(own) or read.startswith(own + "_"):
            raise ValueError(f"read key {read!r} is not tagged(entity_key, ...) of entity {entity_key!r}")


def check_tagged(name: str) -> None:
    """A caller's key must be :func:`tagged` (not one of the limiter's own keys)."""
    head, sep, rest = name.partition(":{")
    entity_key, brace, suffix = rest.partition("}:")
    if head != prefix() or not sep or not brace or not entity_key or not suffix or suffix.startswith("_"):
        raise ValueError(f"{name!r} is not a tagged(entity_key, suffix) key")
