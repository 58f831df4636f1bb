"""Review s41 (C): the second step of a sign-in started with a password that has since
been changed. SPEC §5 (``auth/login`` → ``requires2FA`` token → ``auth/verify-2fa``), §5a
(TigerTrust's ``/api/auth/`` aliases), §8: changing the password is what a victim does on
learning it is known; whoever started a sign-in with the old one must not finish it with a
second factor (a stolen recovery code, a code read over a shoulder) afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an-entirely-different-passphrase-41"


def _changed_password(user: Any) -> None:
    user.set_password(NEW_PASSWORD)
    user.save()


@pytest.mark.parametrize("prefix", ["/api/v1/auth/", "/api/auth/"])
def test_login_token_from_before_a_password_change_no_longer_signs_in(clock: Any, prefix: str) -> None:
    _, victim, _ = make_tenant()
    device, _codes = enrol(victim, clock.now)
    attacker = Client()
    started = attacker.post(
        f"{prefix}login", {"email": victim.email, "password": PASSWORD}, content_type="application/json"
    )
    assert started.status_code == 200 and started.json()["requires2FA"] is True
    _changed_password(victim)
    clock.advance(30)
    answer = attacker.post(
        f"{prefix}verify-2fa",
        {"token": started.json()["token"], "code": totp_code(device, clock.now)},
        content_type="application/json",
    )
    assert answer.status_code == 401
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["error"] == "UNAUTHORIZED"
    assert attacker.get("/api/v1/me").status_code == 401


def test_login_token_from_before_a_password_change_burns_no_code(clock: Any) -> None:
    """The refused token did not spend the code: the victim, signing in with the new
    password, still uses it (the code was never checked)."""
    _, victim, _ = make_tenant()
    _device, codes = enrol(victim, clock.now)
    attacker = Client()
    token = attacker.post(
        "/api/v1/auth/login", {"email": victim.email, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    _changed_password(victim)
    refused = attacker.post(
        "/api/v1/auth/verify-2fa", {"token": token, "code": codes[0]}, content_type="application/json"
    )
    assert refused.status_code == 401
    owner = Client()
    token = owner.post(
        "/api/v1/auth/login", {"email": victim.email, "password": NEW_PASSWORD}, content_type="application/json"
    ).json()["token"]
    done = owner.post("/api/v1/auth/verify-2fa", {"token": token, "code": codes[0]}, content_type="application/json")
    assert done.status_code == 200 and done.json()["user"]["two_factor"]["verified"] is True


def test_ui_challenge_from_before_a_password_change_no_longer_signs_in(clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, _codes = enrol(victim, clock.now)
    attacker = Client()
    step = attacker.post("/accounts/login/", {"login": victim.email, "password": PASSWORD})
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/challenge/"
    _changed_password(victim)
    clock.advance(30)
    answer = attacker.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert attacker.get("/api/v1/me").status_code == 401
    # The pending sign-in is gone: the challenge page sends them back to the password.
    assert attacker.get("/accounts/2fa/challenge/")["Location"].startswith("/accounts/login/")


def test_ui_passkey_challenge_from_before_a_password_change_is_refused(clock: Any) -> None:
    _, victim, _ = make_tenant()
    enrol(victim, clock.now)
    attacker = Client()
    attacker.post("/accounts/login/", {"login": victim.email, "password": PASSWORD})
    _changed_password(victim)
    begin = attacker.post("/accounts/2fa/challenge/passkey/begin/")
    assert begin.status_code == 400 and begin.json()["code"] == "invalid_state"
