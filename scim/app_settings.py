"""SCIM settings, read at call time (so ``override_settings`` works); defaults here."""

from __future__ import annotations

from django.conf import settings

from apikeys.throttling import minute_and_hour
from tater.limiter import Rule


class AppSettings:
    @property
    def DEFAULT_COUNT(self) -> int:
        """Resources per page when a SCIM list request gives no ``count``."""
        return int(getattr(settings, "TATER_SCIM_DEFAULT_COUNT", 100))

    @property
    def MAX_COUNT(self) -> int:
        """Most resources one SCIM list page returns (``filter.maxResults``); a larger
        ``count`` is lowered to it."""
        return int(getattr(settings, "TATER_SCIM_MAX_COUNT", 500))

    @property
    def LAST_USED_INTERVAL(self) -> int:
        """Seconds between two writes of a SCIM token's ``last_used_at`` (not one per request)."""
        return int(getattr(settings, "TATER_SCIM_LAST_USED_INTERVAL", 60))

    @property
    def RATE_RULES(self) -> tuple[Rule, ...]:
        """Requests per SCIM token: ``TATER_SCIM_RATE_LIMITS`` = (per minute, rolling; per
        hour), default (600, 20000): room for an IdP's full sync, not for a runaway loop."""
        return minute_and_hour("TATER_SCIM_RATE_LIMITS", (600, 20_000))


app_settings = AppSettings()
