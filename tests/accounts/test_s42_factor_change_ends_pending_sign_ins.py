"""SPEC §8, §5 and the README decision "A sign-in's second step belongs to its password and its
sessions": a changed second factor ends the sign-ins still waiting for their second step, as
"Sign out everywhere" does. It did so only when the account had other sessions to sign out:
with the change made from its only session, a `requires2FA` token someone started with the
password before (and a code read over a shoulder later) still signed in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


def test_new_recovery_codes_from_the_only_session_end_a_pending_sign_in(clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    attacker = Client()
    started = attacker.post(
        "/api/v1/auth/login", {"email": victim.email, "password": PASSWORD}, content_type="application/json"
    )
    token = started.json()["token"]
    laptop = Client()  # the owner's only session
    laptop.post("/accounts/login/", {"login": victim.email, "password": PASSWORD})
    assert laptop.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302

    assert laptop.post("/accounts/2fa/recovery-codes/").status_code == 200

    clock.advance(30)
    answer = attacker.post(
        "/api/v1/auth/verify-2fa",
        {"token": token, "code": totp_code(device, clock.now)},
        content_type="application/json",
    )
    assert answer.status_code == 401, answer.content
    assert attacker.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").json()["two_factor"]["verified"] is True
