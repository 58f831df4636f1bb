"""The second-factor step of allauth's sign-in flow (password and SSO alike)."""

from __future__ import annotations

from typing import Any

from allauth.account.stages import LoginStage
from allauth.core.internal.httpkit import headed_redirect_response

from accounts import services


class OTPStage(LoginStage):
    """After the first factor, enrolled users are sent to the 2FA challenge; the login
    completes only when ``accounts.two_factor_views.two_factor_challenge`` (a code) or
    ``passkey_challenge_complete`` (a passkey) calls ``exit()``."""

    key = "tater_otp"
    urlname = "accounts_2fa_challenge"

    def handle(self) -> tuple[Any, bool]:
        user = self.login.user
        if user is not None and services.has_2fa(user):
            return headed_redirect_response(self.urlname), True
        return None, True
