"""Review s42 (B): re-securing the second factor signs out the account's other sessions.

SPEC §8 (sessions stored server-side, 2FA with TOTP and single-use recovery codes). A person
who learns that someone else passed their second factor (a recovery code read off a desk, a
phone borrowed for a minute) replaces the authenticator app or generates new recovery codes.
The session that someone opened with the old factor must end then, as it does when the
password changes (GitHub and Google sign the other sessions out when a credential is reset);
the session making the change stays signed in, and stays verified."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.accounts.conftest import enrol, setup_form, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


def _verified_session(user: Any, code: str) -> Client:
    client = Client()
    step = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/challenge/"
    done = client.post("/accounts/2fa/challenge/", {"code": code})
    assert done.status_code == 302
    assert client.get("/api/v1/me").json()["two_factor"]["verified"] is True
    return client


def _signed_out(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 401


def test_replacing_the_authenticator_signs_out_the_other_sessions(clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    attacker = _verified_session(victim, codes[0])  # a recovery code someone else read
    clock.advance(30)
    laptop = _verified_session(victim, totp_code(device, clock.now))

    page = laptop.get("/accounts/2fa/?replace=1")
    assert page.status_code == 200
    new_device = TOTPDevice.objects.get(user=victim, confirmed=False)
    clock.advance(30)
    done = laptop.post("/accounts/2fa/", {**setup_form(page), "code": totp_code(new_device, clock.now)})
    assert done.status_code == 200 and "recovery" in done.content.decode().lower()

    assert _signed_out(attacker)
    me = laptop.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["two_factor"]["verified"] is True
    assert list(UserSession.objects.filter(user=victim).values_list("session_key", flat=True)) == [
        laptop.cookies["sessionid"].value
    ]
    ended = AuditEvent.objects.get(action="user.sessions_ended", target_id=victim.public_id)
    assert ended.changes == {"via": "second_factor_changed", "sessions_ended": 1}  # SPEC §7


def test_new_recovery_codes_sign_out_the_other_sessions(clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    attacker = _verified_session(victim, codes[0])
    clock.advance(30)
    laptop = _verified_session(victim, totp_code(device, clock.now))

    done = laptop.post("/accounts/2fa/recovery-codes/")
    assert done.status_code == 200

    assert _signed_out(attacker)
    me = laptop.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["two_factor"]["verified"] is True


def test_new_recovery_codes_from_the_lost_phone_path_keep_that_session(clock: Any) -> None:
    """The person who lost their phone signs in with a recovery code and regenerates: their
    own session stays signed in and verified; the others (perhaps the phone's finder) end."""
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    clock.advance(30)
    other = _verified_session(victim, totp_code(device, clock.now))
    owner = _verified_session(victim, codes[1])

    assert owner.post("/accounts/2fa/recovery-codes/").status_code == 200

    assert _signed_out(other)
    me = owner.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["two_factor"]["verified"] is True


def test_removing_a_passkey_signs_out_the_other_sessions(clock: Any) -> None:
    """A passkey someone else added with a session of theirs: its removal ends that session,
    however it passed the second factor."""
    from tests.accounts.test_passkeys import enrol_passkey

    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    attacker = _verified_session(victim, codes[0])
    _, planted = enrol_passkey(attacker)
    clock.advance(30)
    laptop = _verified_session(victim, totp_code(device, clock.now))

    removed = laptop.post(f"/accounts/passkeys/{planted.pk}/remove/")
    assert removed.status_code == 302 and removed["Location"] == "/accounts/security/"

    assert _signed_out(attacker)
    assert laptop.get("/api/v1/me").json()["two_factor"]["verified"] is True
