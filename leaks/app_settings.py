"""Settings of the leaked-keys app, read at call time (so ``override_settings`` works)."""

from __future__ import annotations

from django.conf import settings

from apikeys.throttling import minute_and_hour
from tater.limiter import Rule

DEFAULT_KEYS_URL = "https://api.github.com/meta/public_keys/secret_scanning"


def keys_url() -> str:
    """``TATER_GITHUB_SECRET_SCANNING_KEYS_URL``: where GitHub publishes the public keys that
    sign its secret-scanning alerts (JSON ``{"public_keys": [{"key_identifier", "key",
    "is_current"}]}``). http(s) only."""
    return str(getattr(settings, "TATER_GITHUB_SECRET_SCANNING_KEYS_URL", "") or DEFAULT_KEYS_URL)


def keys_cache_seconds() -> int:
    """How long fetched keys are trusted before they are fetched again (default 1 hour): a
    key GitHub withdraws stops verifying within this time."""
    return int(getattr(settings, "TATER_GITHUB_SECRET_SCANNING_KEYS_CACHE_SECONDS", 3600))


def refresh_cooldown_seconds() -> int:
    """An unknown key identifier fetches the keys again at most once per this many seconds
    (default 300): forged identifiers cannot make Tater hammer GitHub's API, whose
    unauthenticated limit is 60 requests an hour."""
    return int(getattr(settings, "TATER_GITHUB_SECRET_SCANNING_REFRESH_COOLDOWN", 300))


def fetch_timeout_seconds() -> float:
    """Connect and read timeout of the key fetch (default 5 s)."""
    return float(getattr(settings, "TATER_GITHUB_SECRET_SCANNING_FETCH_TIMEOUT", 5.0))


def replay_window_seconds() -> int:
    """How long an accepted payload is remembered; the same body again within it is a
    replay and gets 401 (default 1 hour)."""
    return int(getattr(settings, "TATER_GITHUB_SECRET_SCANNING_REPLAY_SECONDS", 3600))


def rate_rules() -> tuple[Rule, ...]:
    """Requests per caller address: ``TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS`` =
    (per minute, per hour), default (120, 2000). Counted before the signature is checked."""
    return minute_and_hour("TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS", (120, 2000))
