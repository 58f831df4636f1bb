"""Reading settings from the environment (tater.settings): a value that is set but makes no
sense stops the start with ``ImproperlyConfigured`` naming the variable, never a traceback
on the first request or a silent fallback to something the operator did not ask for."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")  # LOG_LEVEL (settings, gunicorn_conf)
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool, *, empty: bool | None = None) -> bool:
    """On or off; unset is the default, empty too unless ``empty`` says otherwise (a variable
    whose default is the unsafe side: ``DJANGO_DEBUG=`` must not turn production into
    development). Any other spelling is refused: read as off, ``TATER_RATELIMIT_FAIL_OPEN=maybe``
    would turn a Redis outage into 503s."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default if empty is None or name not in os.environ else empty
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1, true, yes, on or 0, false, no, off (got {value!r}).")


def env_choice(name: str, default: str, choices: tuple[str, ...], *, upper: bool = False, lower: bool = False) -> str:
    """One of ``choices`` (in any case with ``upper`` or ``lower``); unset or empty is the
    default. Anything else stops the start naming the variable (not a ValueError from deep
    inside Django, allauth or the rate limiter)."""
    value = os.environ.get(name, "").strip()
    if upper:
        value = value.upper()
    if lower:
        value = value.lower()
    if not value:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)} (got {value!r}).")
    return value


def env_str(name: str, default: str) -> str:
    """A text value; unset, empty or blank is the default (a compose file's unset
    ``${STATIC_ROOT}`` must not make ``collectstatic`` write into the working directory)."""
    return os.environ.get(name, "").strip() or default


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


def env_database_url(name: str, **options: Any) -> dict[str, Any] | None:
    """The database ``name`` (a URL dj-database-url reads) names; None when unset. A URL it
    cannot read, or one naming no database (``postgres://``), stops the start: otherwise the
    first query fails, on every request. The message never repeats the URL (its password)."""
    url = os.environ.get(name, "").strip()
    if not url:
        return None
    import dj_database_url

    try:
        database: dict[str, Any] = dict(dj_database_url.parse(url, **options))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} is not a database URL such as postgres://user:password@host:5432/tater ({exc})"
        ) from None
    if not database.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database: postgres://user:password@host:5432/<database>.")
    return database


def env_redis_url(name: str) -> str:
    """The Redis server ``name`` names (``redis://``, TLS ``rediss://`` or ``unix://``); empty
    when unset. A malformed one stops the start: redis-py reads it on first use, so every
    request would fail (or, with ``/x`` as its database, quietly use database 0). The message
    never repeats the URL (its password)."""
    url = os.environ.get(name, "").strip()
    if not url:
        return ""
    from urllib.parse import urlsplit

    from redis.connection import parse_url

    parts = urlsplit(url)
    problem = ""
    if parts.scheme not in ("redis", "rediss", "unix"):
        problem = "must start with redis://, rediss:// (TLS) or unix://"
    elif parts.scheme == "unix":
        problem = "" if parts.path else "names no socket (unix:///run/redis/redis.sock)"
    elif not parts.hostname:
        problem = "names no host (redis://host:6379/0)"
    else:
        try:
            parts.port  # noqa: B018 (a port that is not a number from 0 to 65535 raises)
        except ValueError:
            problem = "has a port that is not a number from 0 to 65535"
        database = parts.path.strip("/")
        if not problem and database and not database.isdigit():
            problem = "has a database that is not a number (redis://host:6379/0)"
    if not problem:
        try:
            parse_url(url)
        except ValueError:
            problem = "is not a URL redis-py reads (redis://user:password@host:6379/0)"
    if problem:
        raise ImproperlyConfigured(f"{name} {problem}.")
    return url
