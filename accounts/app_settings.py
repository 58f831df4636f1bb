"""Account settings, read at call time (so ``override_settings`` works); defaults here."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    @property
    def LOGIN_CHALLENGE_TTL(self) -> int:
        """Seconds a JSON sign-in's ``requires2FA`` token stays valid."""
        return int(getattr(settings, "TATER_LOGIN_CHALLENGE_TTL", 300))

    @property
    def LOGIN_CHALLENGE_MAX_FAILURES(self) -> int:
        """Wrong codes accepted on one 2FA token before it is burnt."""
        return int(getattr(settings, "TATER_LOGIN_CHALLENGE_MAX_FAILURES", 5))

    @property
    def AUTH_FORM_RATE(self) -> str:
        """django-ratelimit rate, per client IP, for the sign-in, sign-up, password reset and
        2FA forms and the JSON auth endpoints (429 page / ``RATE_LIMITED`` beyond it)."""
        return str(getattr(settings, "TATER_AUTH_FORM_RATE", "30/m"))

    @property
    def SIGNUP_TENANT_NAME(self) -> str:
        """Name of the tenant created for a user who signs up on their own."""
        return str(getattr(settings, "TATER_SIGNUP_TENANT_NAME", "{email}'s team"))

    @property
    def SIGNUP_ORG_NAME(self) -> str:
        """Name of that tenant's first organization."""
        return str(getattr(settings, "TATER_SIGNUP_ORG_NAME", "Default"))

    @property
    def DNS_NAMESERVERS(self) -> list[str]:
        """Nameservers asked for domain-verification TXT records, as ``"host"`` or
        ``"host:port"`` (IPv6: ``"[::1]:5353"``). Empty: the system resolver."""
        return [str(s).strip() for s in getattr(settings, "TATER_DNS_NAMESERVERS", None) or [] if str(s).strip()]

    @property
    def DNS_TIMEOUT(self) -> float:
        """Seconds one domain-verification lookup may take in all (retries included)."""
        return float(getattr(settings, "TATER_DNS_TIMEOUT", 5.0))

    @property
    def ADMIN_REQUIRES_OTP(self) -> bool:
        """The Django admin requires a session verified with a second factor."""
        return bool(getattr(settings, "TATER_ADMIN_REQUIRES_OTP", True))


app_settings = AppSettings()
