"""Review s44 (C): "sign out everywhere" at the instant a signed-in session steps up with its
second factor (SPEC §8).

A session that signed in with the password alone (made outside the sign-in flow's second step,
or before 2FA was enrolled) is asked for a code before the admin or a tenant requiring 2FA.
Its step-up verified the code, then gave the session a fresh id (Django copies the session's
data under a new key): if the person signed out everywhere in between, the ended session came
back under the new key, signed in and now verified. Expectations: once "sign out everywhere"
has happened, that browser is signed out, whichever came first.
"""

from __future__ import annotations

from typing import Any

import django_otp
import pytest
from django.test import Client

from accounts import mfa, services
from tests.accounts.conftest import enrol, totp_code
from tests.factories import UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _signed_in_unverified() -> tuple[Any, Client, str]:
    user = UserFactory()
    device, _codes = enrol(user)
    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    browser = Client()
    browser.force_login(user)  # signed in, not verified
    assert browser.get("/api/v1/me").status_code == 200
    return user, browser, totp_code(device)


@pytest.mark.parametrize(
    "pause_in",
    [
        # The session read, its code not yet checked: the signing out comes first.
        pytest.param((django_otp, "verify_token"), id="signed-out-first"),
        # The step-up holds the sign-out rows, renewing the session: the signing out waits.
        pytest.param((mfa, "session_started"), id="step-up-first"),
    ],
)
def test_stepping_up_while_signed_out_everywhere(pause_in: tuple[Any, str]) -> None:
    user, browser, code = _signed_in_unverified()
    answers: list[int] = []

    errors = while_held(
        soon(lambda: answers.append(browser.post("/accounts/2fa/verify/", {"code": code}).status_code)),
        soon(lambda: services.sessions_ended(user=user, via="user")),
        pause_in=pause_in,
    )

    assert errors == []
    assert answers in ([302], [400]), answers  # 400: Django's SessionInterrupted, signed out
    assert browser.get("/api/v1/me").status_code == 401, answers
