"""System checks for bad setting combinations."""

from __future__ import annotations

import contextlib
import os
import shlex
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.utils.module_loading import import_string

from tater.client_ip import canonical_network
from tater.operations.app_settings import app_settings


@register()
def key_prefixes_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    prefixes = list(settings.TATER_KEY_PREFIXES.values())
    problems = []
    if set(settings.TATER_KEY_PREFIXES) != {"standard", "agent", "public"}:
        problems.append(Warning("TATER_KEY_PREFIXES must name exactly standard, agent and public.", id="tater.W001"))
    for prefix in prefixes:
        for other in prefixes:
            if prefix != other and other.startswith(prefix):
                problems.append(Warning(f"Key prefix {prefix!r} is a prefix of {other!r}.", id="tater.W002"))
    return problems


def _worker_count() -> int:
    """Worker processes this deployment announces: WEB_CONCURRENCY (gunicorn's default for
    --workers) or -w/--workers in GUNICORN_CMD_ARGS."""
    counts = [1]
    with contextlib.suppress(ValueError):
        counts.append(int(os.environ.get("WEB_CONCURRENCY", "1") or 1))
    args = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.partition("=")[2]
        elif arg.startswith("-w") and arg[2:].isdigit():
            value = arg[2:]
        with contextlib.suppress(TypeError, ValueError):
            counts.append(int(value))  # type: ignore[arg-type]
    return max(counts)


@register(Tags.caches)
def shared_cache_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Rate limits, lockouts, key usage and the key cache hold across processes only on a
    shared cache: say so loudly when production runs without one."""
    if settings.DEBUG:
        return []
    problems = []
    if not getattr(settings, "REDIS_URL", ""):
        database = settings.DATABASES.get("default", {})
        name = str(database.get("NAME") or "")
        # A SQLite file: the key generation lives beside it (tater.hostcounter), host-wide.
        on_disk = bool(name) and ":memory:" not in name and "mode=memory" not in name
        revocation = (
            "key revocation reaches every process on this host (through a file beside the SQLite database)"
            if on_disk and str(database.get("ENGINE", "")).endswith("sqlite3")
            else "key revocation is seen by this process only"
        )
        problems.append(
            Warning(
                "REDIS_URL is not set in production: rate limits, failed-auth lockouts and key usage "
                f"are counted per process, and {revocation}.",
                hint="Set REDIS_URL to a Redis server shared by every worker.",
                id="tater.W010",
            )
        )
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    workers = _worker_count()
    if backend.endswith("LocMemCache") and workers > 1:
        problems.append(
            Warning(
                f"The default cache is in-process (locmem) while {workers} worker processes are configured: "
                "each worker admits the full rate limit and keeps its own lockouts.",
                hint="Set REDIS_URL, or run a single worker.",
                id="tater.W011",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def email_backend_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Mail carries invitation and password-reset links: a backend that prints messages
    (console, or one built on it) puts account-takeover links in the production logs."""
    if settings.DEBUG:
        return []
    try:
        backend = import_string(settings.EMAIL_BACKEND)
    except ImportError:
        return []  # Django's own checks and the first send report a backend that does not import
    if not (isinstance(backend, type) and issubclass(backend, ConsoleEmailBackend)):
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND} with DEBUG off: every message, invitation and "
            "password-reset links included, would be printed to the logs.",
            hint="Set EMAIL_HOST (SMTP), or unset EMAIL_BACKEND: without EMAIL_HOST mail is then not sent "
            "and only its recipients and subject are logged.",
            id="tater.E020",
        )
    ]


# (per minute, per hour) settings; each limit a whole number of at least 1 (a bad value would
# otherwise fail every request it applies to).
MINUTE_AND_HOUR_SETTINGS = ("TATER_SCIM_RATE_LIMITS", "TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS")


def _bad_limits(value: Any) -> bool:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return True
    return not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value)


@register()
def rate_limit_settings_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    problems = []
    for name in MINUTE_AND_HOUR_SETTINGS:
        value = getattr(settings, name, None)
        if value is not None and _bad_limits(value):
            problems.append(
                Error(
                    f"{name} must be (per minute, per hour), two whole numbers of at least 1; got {value!r}.",
                    id="tater.E030",
                )
            )
    alias = getattr(settings, "TATER_RATELIMIT_CACHE", "default")
    if getattr(settings, "TATER_RATELIMIT_BACKEND", "") == "cache" and alias not in settings.CACHES:
        problems.append(
            Error(
                f"TATER_RATELIMIT_CACHE names the cache {alias!r}, which CACHES does not define.",
                hint=f"Use one of {', '.join(sorted(settings.CACHES))}.",
                id="tater.E031",
            )
        )
    for plan, value in (getattr(settings, "TATER_PLAN_RATE_LIMITS", None) or {}).items():
        if _bad_limits(value):
            problems.append(
                Error(
                    f"TATER_PLAN_RATE_LIMITS[{plan!r}] must be (per minute, per hour), two whole numbers of at least 1; got {value!r}.",
                    id="tater.E030",
                )
            )
    return problems


@register()
def metrics_allowlist_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Each ``TATER_METRICS_ALLOWED_IPS`` entry is a network: a bad one stops ``check`` and
    ``migrate`` in a deploy pipeline, not the release's first request."""
    problems = []
    for cidr in app_settings.METRICS_ALLOWED_IPS:
        try:
            canonical_network(cidr)
        except ValueError as exc:
            problems.append(
                Error(
                    f"TATER_METRICS_ALLOWED_IPS: {cidr!r} is not an address or network ({exc}).",
                    hint="Separate entries with commas, e.g. 127.0.0.1/32,10.0.0.0/8,::1/128.",
                    id="tater.E041",
                )
            )
    return problems


@register(Tags.security, deploy=True)
def metrics_exposure_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """``/metrics`` is for the operator's scrapers (SPEC §12): an allowlist network holding
    every address (``0.0.0.0/0``, ``::/0``) makes it public. A bad CIDR is reported by
    ``OperationsMiddleware`` when the app loads."""
    everyone = []
    for cidr in app_settings.METRICS_ALLOWED_IPS:
        with contextlib.suppress(ValueError):
            if canonical_network(cidr).prefixlen == 0:
                everyone.append(cidr)
    if not everyone:
        return []
    return [
        Warning(
            f"TATER_METRICS_ALLOWED_IPS admits every address ({', '.join(everyone)}): /metrics is public.",
            hint="Name the scrapers' networks (e.g. 10.0.0.0/8), or leave it empty and set TATER_METRICS_TOKEN.",
            id="tater.W040",
        )
    ]


@register(Tags.security, deploy=True)
def any_host_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Links in mail (password resets, address confirmations, invitations, security notices)
    are built from the Host a request names; ``ALLOWED_HOSTS`` is what keeps it ours. With
    ``*`` anyone asking a reset for someone else's address picks the host its link names."""
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Warning(
            "ALLOWED_HOSTS admits any host (*): links in mail, password resets included, would name "
            "whatever Host a client sends, and hand the reset to that host.",
            hint="List the names the site is reached by (e.g. tater.example.com), or make sure the proxy "
            "in front sets the Host header itself.",
            id="tater.W050",
        )
    ]
