"""Operations settings, read at call time (so ``override_settings`` works); defaults here."""

from __future__ import annotations

from django.conf import settings

DEFAULT_METRICS_ALLOWED_IPS = ("127.0.0.1/32", "::1/128")


class AppSettings:
    @property
    def METRICS_ALLOWED_IPS(self) -> tuple[str, ...]:
        """Networks (CIDRs) whose client addresses may read ``/metrics``; loopback only by
        default, empty for none (token only)."""
        value = getattr(settings, "TATER_METRICS_ALLOWED_IPS", DEFAULT_METRICS_ALLOWED_IPS)
        return tuple(str(item).strip() for item in value if str(item).strip())

    @property
    def METRICS_TOKEN(self) -> str:
        """A bearer token that admits any client to ``/metrics`` (empty: none). Surrounding
        whitespace is not part of it (a secret file's final newline; scrapers trim theirs)."""
        return str(getattr(settings, "TATER_METRICS_TOKEN", "") or "").strip()

    @property
    def READY_TIMEOUT(self) -> float:
        """Seconds ``/readyz`` waits for each dependency (they are asked concurrently)."""
        return float(getattr(settings, "TATER_READY_TIMEOUT", 1.0))

    @property
    def READY_MIN_INTERVAL(self) -> float:
        """Seconds within which ``/readyz`` answers with the last checks' results instead of
        asking the database and Redis again (one new connection a second, however often
        it is called)."""
        return float(getattr(settings, "TATER_READY_MIN_INTERVAL", 1.0))

    @property
    def REDIS_URL(self) -> str:
        """The Redis server ``/readyz`` checks (empty: no Redis configured, not checked)."""
        return str(getattr(settings, "REDIS_URL", "") or "")


app_settings = AppSettings()
