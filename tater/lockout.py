"""Failed-authentication lockout (SPEC §6). Filled in by the rate-limit issue (6)."""

from __future__ import annotations


def register_failure(*, ip: str, kind: str, account: str | None = None) -> None:
    """Count one failed authentication attempt from ``ip`` (and against ``account``);
    raise 429 ``LOCKED_OUT`` when the client or account is (now) locked out."""
    return None


def check_account(account: str) -> None:
    """Raise 429 ``LOCKED_OUT`` when password/OTP sign-in to ``account`` is locked."""
    return None
