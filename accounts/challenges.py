"""The JSON sign-in's second step (``POST /api/v1/auth/login`` answering ``requires2FA``,
then ``auth/verify-2fa``): its single-use token, bound to the password and the sessions alive
when it was issued (accounts.sign_in_binding), and settling an answer to it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from accounts import services
from accounts.app_settings import app_settings
from accounts.models import LoginChallenge
from accounts.sign_in_binding import sign_in_stamp, sign_in_still_current
from tater.exceptions import DomainError

CHALLENGE_PREFIX = "2fa_"


class InvalidChallenge(DomainError):
    status_code = 401
    code = "UNAUTHORIZED"

    def __init__(self, message: str = "Invalid or expired two-factor token; sign in again") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class ChallengeResult:
    user: Any
    device: Any


def challenge_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_challenge_create(*, user: Any) -> str:
    token = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    LoginChallenge.objects.create(
        user=user,
        digest=challenge_digest(token),
        password_stamp=sign_in_stamp(user),
        expires_at=timezone.now() + timedelta(seconds=app_settings.LOGIN_CHALLENGE_TTL),
    )
    return token


def login_challenge_user(*, token: str) -> Any:
    """The user a live challenge token belongs to (for lockout checks), else raise: also once
    the account's password changed or all its sessions ended since (accounts.sign_in_binding)."""
    challenge = (
        LoginChallenge.objects.select_related("user")
        .filter(digest=challenge_digest(token or ""), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if challenge is None or not (
        challenge.user.is_active and sign_in_still_current(challenge.user, challenge.password_stamp)
    ):
        raise InvalidChallenge()
    return challenge.user


def login_challenge_complete(*, token: str, code: str) -> ChallengeResult:
    """Check the code for the token's user; the token is burnt on success (single use) and
    after too many wrong codes. A throttled device raises :class:`OTPThrottled` before the
    code is checked (not counted against the token: no code was tried)."""
    user = login_challenge_user(token=token)
    return login_challenge_settle(token=token, user=user, device=services.verify_second_factor(user=user, code=code))


def login_challenge_settle(
    *, token: str, user: Any, device: Any | None, refusal: services.InvalidOTP | None = None
) -> ChallengeResult:
    """End a second-step attempt on ``token``: ``device`` is the factor that verified (a code
    or a passkey, accounts.passkeys), None for a wrong answer. A wrong answer counts against
    the token, burnt after too many; a right one uses it up."""
    digest = challenge_digest(token)
    if device is None:
        LoginChallenge.objects.filter(digest=digest).update(failures=F("failures") + 1)
        LoginChallenge.objects.filter(digest=digest, failures__gte=app_settings.LOGIN_CHALLENGE_MAX_FAILURES).update(
            used_at=timezone.now()
        )
        raise refusal or services.InvalidOTP()
    # Conditional update: of two concurrent requests with the same token, one wins.
    won = LoginChallenge.objects.filter(digest=digest, used_at__isnull=True).update(used_at=timezone.now())
    if not won:
        raise InvalidChallenge()
    return ChallengeResult(user=user, device=device)
