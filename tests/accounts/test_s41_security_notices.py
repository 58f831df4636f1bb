"""Security notices (README "Decisions"; SPEC §8 is silent, GitHub mails the same events).

Review C (s41) noticed that a password and one stolen recovery code make a fully verified
session, which may replace the victim's authenticator, regenerate the codes or add its own
passkey, and that nobody told the owner. Each of these now mails the account's own address,
whichever channel took the step; ordinary sign-ins and failures mail nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts import mfa, services
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)  # mail leaves when the change commits

NEW_PASSWORD = "a-different-passphrase-for-s41-notices"


def _notices(to: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [to] and m.subject.startswith("[Tater] ")]


def _signed_in_with(client: Client, user: Any, code: str) -> None:
    started = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert started.status_code == 302 and started["Location"] == "/accounts/2fa/challenge/"
    done = client.post("/accounts/2fa/challenge/", {"code": code}, REMOTE_ADDR="203.0.113.9")
    assert done.status_code == 302 and done["Location"] != "/accounts/login/"


def test_a_sign_in_with_a_recovery_code_mails_the_owner(clock: Any) -> None:
    _, victim, _ = make_tenant()
    _device, codes = enrol(victim, clock.now)
    mail.outbox.clear()
    _signed_in_with(Client(HTTP_USER_AGENT="AttackerBrowser/1.0"), victim, codes[0])
    (notice,) = _notices(victim.email)
    assert notice.subject == "[Tater] A recovery code was used to sign in"
    assert "203.0.113.9" in notice.body and "AttackerBrowser/1.0" in notice.body
    assert "Unused recovery codes left: 9" in notice.body
    assert "/accounts/security/" in notice.body
    assert not any(code in notice.body or code.replace("-", "") in notice.body for code in codes)


def test_a_sign_in_with_the_authenticator_mails_nothing(clock: Any) -> None:
    _, user, _ = make_tenant()
    device, _codes = enrol(user, clock.now)
    mail.outbox.clear()
    clock.advance(30)
    _signed_in_with(Client(), user, totp_code(device, clock.now))
    failed = Client().post("/accounts/login/", {"login": user.email, "password": "wrong-password-1"})
    assert failed.status_code == 200
    assert _notices(user.email) == []


def test_the_thief_replacing_the_authenticator_and_codes_is_reported(clock: Any) -> None:
    """The lost-phone path, walked by whoever holds the password and one recovery code."""
    _, victim, _ = make_tenant()
    _device, codes = enrol(victim, clock.now)
    thief = Client()
    _signed_in_with(thief, victim, codes[0])
    mail.outbox.clear()
    new_device = services.totp_enrolment_start(user=victim)
    clock.advance(30)
    services.totp_enrolment_confirm(
        user=victim, code=totp_code(new_device, clock.now), shown=services.totp_enrolment_shown(new_device)
    )
    services.recovery_codes_regenerate(user=victim)
    subjects = sorted(m.subject for m in _notices(victim.email))
    assert "[Tater] A second factor was added" in subjects
    assert "[Tater] New recovery codes were generated" in subjects
    added = next(m for m in _notices(victim.email) if m.subject == "[Tater] A second factor was added")
    assert "A second factor was added (an authenticator app)" in added.body


def test_turning_two_factor_off_says_what_went(clock: Any) -> None:
    _, user, _ = make_tenant()
    _device, codes = enrol(user, clock.now)
    client = Client()
    _signed_in_with(client, user, codes[0])
    mail.outbox.clear()
    off = client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert off.status_code == 302
    (notice,) = _notices(user.email)
    assert notice.subject == "[Tater] A second factor was removed"
    assert "A second factor was removed (" in notice.body
    assert "an authenticator app" in notice.body and "recovery codes" in notice.body


def test_an_operator_removing_a_device_is_named(clock: Any) -> None:
    _, user, _ = make_tenant()
    device, _codes = enrol(user, clock.now)
    mail.outbox.clear()
    mfa.mfa_device_remove(device=device)
    (notice,) = _notices(user.email)
    assert "by an operator" in notice.body


def test_a_password_change_mails_the_owner(clock: Any) -> None:
    _, user, _ = make_tenant()
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    mail.outbox.clear()
    changed = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    (notice,) = _notices(user.email)
    assert notice.subject == "[Tater] Your password was changed"
    assert PASSWORD not in notice.body and NEW_PASSWORD not in notice.body
