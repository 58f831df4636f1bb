"""The second-factor step of allauth's sign-in flow (password and SSO alike)."""

from __future__ import annotations

from typing import Any

from allauth.account.stages import LoginStage, LoginStageController
from allauth.core.internal.httpkit import headed_redirect_response
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from accounts import services
from accounts.sign_in_binding import sign_in_stamp, sign_in_still_current, still_current_locked

# Where the pending step keeps its stamp of the account (accounts.sign_in_binding).
PASSWORD_STAMP = "tater_password_stamp"


class OTPStage(LoginStage):
    """After the first factor, enrolled users are sent to the 2FA challenge; the login
    completes only when ``accounts.two_factor_views.two_factor_challenge`` (a code) or
    ``passkey_challenge_complete`` (a passkey) calls ``exit()``."""

    key = "tater_otp"
    urlname = "accounts_2fa_challenge"

    def handle(self) -> tuple[Any, bool]:
        user = self.login.user
        if user is not None and services.has_2fa(user):
            self.login.state[PASSWORD_STAMP] = sign_in_stamp(user)  # stashed with the pending login
            return headed_redirect_response(self.urlname), True
        return None, True


def pending_second_step(request: HttpRequest) -> tuple[Any, Any]:
    """The pending sign-in's 2FA stage and its user, or ``(None, None)``: none pending, or
    the account's password changed or all its sessions ended since it began (then it is
    dropped: sign in again)."""
    stage = LoginStageController.enter(request, OTPStage.key)
    if stage is None or stage.login.user is None:
        return None, None
    if not sign_in_still_current(stage.login.user, stage.login.state.get(PASSWORD_STAMP)):
        stage.abort()
        return None, None
    return stage, stage.login.user


def finish_second_step(stage: Any, user: Any, device: Any) -> HttpResponse | None:
    """Complete the pending sign-in with ``device``, the factor that just verified: its session
    is made in one transaction with the account's stamp compared again under lock
    (``accounts.sign_in_binding.still_current_locked``). None, the pending sign-in dropped,
    when the account changed meanwhile (a factor removed, signed out everywhere, turned off)."""
    with transaction.atomic():
        if not still_current_locked(user, stage.login.state.get(PASSWORD_STAMP)):
            stage.abort()
            return None
        user.otp_device = device  # django-otp marks the session verified when login() sees this
        return stage.exit()
