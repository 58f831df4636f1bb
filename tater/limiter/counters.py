"""Counters kept in a Django cache (the cache backend's fixed windows, a key's uses), which
may drop a key at any moment (an eviction under ``maxmemory``, an expiry). Django's ``incr``
raises ``ValueError`` for a missing key and never creates one (nor could it give it a
timeout): :func:`incr_counter` creates the counter (at 0, with its timeout) when it is
missing and increments it, creating it again when it vanished in between."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache

__all__ = ["decr_counter", "incr_counter"]


def incr_counter(cache: BaseCache, name: str, delta: int = 1, *, timeout: Any) -> int:
    """The counter ``name`` after adding ``delta``; created with ``timeout`` (seconds, or
    ``None`` for never) when missing. A counter that vanishes twice between its creation and
    its increment raises ``ValueError`` (a cache evicting that fast is broken)."""
    for _ in range(2):
        cache.add(name, 0, timeout=timeout)
        try:
            return int(cache.incr(name, delta))
        except ValueError:  # expired or evicted between add and incr: create it again
            continue
    raise ValueError(f"counter {name!r} vanished twice between add and incr")


def decr_counter(cache: BaseCache, name: str, delta: int = 1) -> None:
    """Give ``delta`` back to the counter ``name``; a counter gone already (evicted, or its
    period over) has nothing left to give back to."""
    try:
        cache.decr(name, delta)
    except ValueError:
        pass
