"""Review s44 (C): an operator removes a lost phone at the instant its thief finishes a sign-in
with it (SPEC §8, §10, §13).

Removing a second factor in the admin ends every session of the account and every sign-in
waiting for its second step: that is how the person gets the account back from whoever holds
the phone and the password. The second step checked that its sign-in was still current when
it began, then checked the code, then made the session: a removal landing in between found no
session to end yet and moved the sign-out generation the step had already compared, so the
thief's session was made afterwards and kept working. The same with "sign out everywhere".
Expectations: whichever comes first, the thief ends with no working session once the removal
(or the signing out) has happened: the step is refused, or its session is ended with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import mfa, services
from accounts.api import views as api_views
from accounts.stages import OTPStage
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _operator_removes(device: Any) -> Callable[[], Any]:
    return soon(lambda: mfa.mfa_device_remove(device=type(device).objects.get(pk=device.pk)))


def test_json_second_step_finishing_while_the_phone_is_removed() -> None:
    user = UserFactory()
    device, _codes = enrol(user)
    type(device).objects.filter(pk=device.pk).update(last_t=-1)  # the current code unused again
    thief = APIClient()
    token = thief.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    code = totp_code(device)
    answers: list[int] = []

    errors = while_held(
        soon(
            lambda: answers.append(
                thief.post("/api/v1/auth/verify-2fa", {"token": token, "code": code}, format="json").status_code
            )
        ),
        _operator_removes(device),
        pause_in=(api_views, "_sign_in"),  # the code checked, the session not yet made
    )

    assert errors == []
    assert not type(device).objects.filter(pk=device.pk).exists()
    me = thief.get("/api/v1/me")
    assert answers[0] == 401 or me.status_code == 401, answers


def test_sign_in_form_second_step_finishing_while_the_phone_is_removed() -> None:
    user = UserFactory()
    device, _codes = enrol(user)
    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    thief = Client()
    assert thief.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    code = totp_code(device)
    answers: list[int] = []

    errors = while_held(
        soon(lambda: answers.append(thief.post("/accounts/2fa/challenge/", {"code": code}).status_code)),
        _operator_removes(device),
        pause_in=(OTPStage, "exit"),  # the code checked, the session not yet made
    )

    assert errors == []
    assert thief.get("/api/v1/me").status_code == 401, answers


def test_signing_out_everywhere_while_a_json_second_step_makes_its_session() -> None:
    """The other order: the second step holds the account (it is making the session) when the
    person signs out everywhere, which waits, then ends that session too."""
    user = UserFactory()
    device, _codes = enrol(user)
    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    thief = APIClient()
    token = thief.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    code = totp_code(device)
    answers: list[Any] = []

    errors = while_held(
        soon(
            lambda: answers.append(thief.post("/api/v1/auth/verify-2fa", {"token": token, "code": code}, format="json"))
        ),
        soon(lambda: services.sessions_ended(user=user, via="user")),
        pause_in=(api_views, "login"),  # inside the transaction that makes the session
    )

    assert errors == []
    # Signed in, then signed out at once: Django answers 400 when the session it was saving
    # was deleted meanwhile (SessionInterrupted).
    assert [a.status_code for a in answers] in ([200], [400]), answers
    assert thief.get("/api/v1/me").status_code == 401
