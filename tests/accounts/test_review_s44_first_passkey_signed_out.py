"""Review s44 (F): "sign out everywhere" at the instant a session enrols its first passkey
(SPEC §8, §13), and a first authenticator app.

A session signed in with the password alone adds the account's first passkey: the passkey
verifies that session (as confirming a TOTP app does) and the account's other sessions end.
If, meanwhile, the person signs out everywhere from another browser (they think their password
was stolen, and that session may be the thief's), the enrolling session must not come back
verified, as a step-up's once did (accounts.mfa.session_stepped_up): the session is updated in
place, never copied under a new id. And a session ended before its passkey's answer was read
failed with a 500 (the ceremony's state, taken from the session, was saved to a session that no
longer existed). Expectations: once "sign out everywhere" has happened, that browser is signed
out, whichever came first, answered 400 as Django answers a session ended during a request;
a passkey stored before stays (signing out removes no factor), an ended session adds none.
"""

from __future__ import annotations

from typing import Any

import django_otp
import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from accounts import mfa, passkeys, services
from tests.accounts.conftest import setup_form, totp_code
from tests.accounts.test_passkeys import SoftAuthenticator, post_json, sign_in
from tests.factories import UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


@pytest.mark.parametrize(
    "pause_in",
    [
        # The request let in, the passkey not yet checked: the signing out comes first.
        pytest.param((passkeys, "passkey_registration_complete"), id="before-stored"),
        # The passkey stored, the session not yet verified.
        pytest.param((django_otp, "login"), id="before-verified"),
        # The session verified, the other sessions about to end: the signing out comes then.
        pytest.param((mfa, "factor_changed_sign_out"), id="while-others-end"),
    ],
)
def test_enrolling_a_first_passkey_while_signed_out_everywhere(pause_in: tuple[Any, str]) -> None:
    user = UserFactory()
    browser = Client()
    sign_in(browser, user)
    assert browser.get("/api/v1/me").status_code == 200
    options = post_json(browser, "/accounts/passkeys/register/begin/").json()
    answer = SoftAuthenticator().create(options)
    answers: list[int] = []

    errors = while_held(
        soon(lambda: answers.append(post_json(browser, "/accounts/passkeys/register/complete/", answer).status_code)),
        soon(lambda: services.sessions_ended(user=user, via="user")),
        pause_in=pause_in,
    )

    assert errors == []
    assert answers in ([200], [400]), answers  # 400: Django's SessionInterrupted, signed out
    assert browser.get("/api/v1/me").status_code == 401, answers
    # Stored before the signing out, it stays (that removes no factor); an ended session adds none.
    stored = pause_in[1] != "passkey_registration_complete"
    assert WebAuthnCredential.objects.filter(user=user, confirmed=True).count() == int(stored)


@pytest.mark.parametrize(
    "pause_in",
    [
        pytest.param((services, "totp_enrolment_confirm"), id="before-checked"),
        pytest.param((django_otp, "login"), id="before-verified"),
        pytest.param((mfa, "factor_changed_sign_out"), id="while-others-end"),
    ],
)
def test_confirming_a_first_authenticator_app_while_signed_out_everywhere(pause_in: tuple[Any, str]) -> None:
    """The same for a first authenticator app (the setup page verifies the session alike)."""
    user = UserFactory()
    browser = Client()
    sign_in(browser, user)
    page = browser.get("/accounts/2fa/")
    assert page.status_code == 200  # the QR code
    form = setup_form(page)
    code = totp_code(services.pending_totp_device(user))
    answers: list[int] = []

    errors = while_held(
        soon(lambda: answers.append(browser.post("/accounts/2fa/", {**form, "code": code}).status_code)),
        soon(lambda: services.sessions_ended(user=user, via="user")),
        pause_in=pause_in,
    )

    assert errors == []
    assert answers in ([200], [400]), answers
    assert browser.get("/api/v1/me").status_code == 401, answers
    assert services.totp_device(user) is not None
