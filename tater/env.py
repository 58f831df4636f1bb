"""Reading settings from the environment (tater.settings): a value that is set but makes no
sense stops the start with ``ImproperlyConfigured`` naming the variable, never a traceback
on the first request or a silent fallback to something the operator did not ask for."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool) -> bool:
    """On or off; unset or empty is the default. Any other spelling is refused: read as off,
    ``TATER_RATELIMIT_FAIL_OPEN=maybe`` would turn a Redis outage into 503s."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1, true, yes, on or 0, false, no, off (got {value!r}).")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_number(name: str, default: float, kind: type[int] | type[float] = int, minimum: float = 0) -> Any:
    """A number from the environment; unset or empty is the default, anything else that is not
    a number of ``kind`` at least ``minimum`` stops the start with the variable's name."""
    value = os.environ.get(name, "").strip()
    if not value:
        return kind(default)
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or number != number or number in (float("inf"), float("-inf")) or number < minimum:
        noun = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {noun} of at least {minimum:g} (got {value!r}).")
    return number
