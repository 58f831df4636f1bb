"""Review s43 (B): an operator's removal of a lost second factor signs the account out.

SPEC §8 (sessions stored server-side; 2FA), §10 (operators, the admin), §13 (passkeys), §7
(audited). The help desk case: a person's phone (their authenticator app) was stolen, and with
it, or with a code read from it, someone opened a verified session. The person asks an operator
to remove the lost device. That is an account-recovery action (GitHub's and Sentry's staff
removing a lost factor, Stripe's "reset 2FA"): the session the thief verified with that phone
must end, and so must a sign-in waiting for its second step (a `requires2FA` token), as when the
person replaces the authenticator themselves (`via` `second_factor_changed`). Deleting the
device alone left the thief's session signed in (merely no longer "verified")."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory, make_passkey, make_tenant

pytestmark = pytest.mark.django_db
TOTP = "/admin/otp_totp/totpdevice/"
PASSKEYS = "/admin/django_otp_webauthn/webauthncredential/"


def _operator(settings: Any, user: Any = None) -> Client:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the admin's 2FA gate has its own tests
    client = Client()
    client.force_login(user or UserFactory(is_staff=True, is_superuser=True))
    return client


def _verified_session(user: Any, code: str) -> Client:
    client = Client()
    step = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/challenge/"
    assert client.post("/accounts/2fa/challenge/", {"code": code}).status_code == 302
    assert client.get("/api/v1/me").json()["two_factor"]["verified"] is True
    return client


def _signed_out(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 401


def test_deleting_the_stolen_authenticator_signs_out_the_thiefs_session(settings: Any, clock: Any) -> None:
    tenant, victim, _ = make_tenant()
    device, _codes = enrol(victim, clock.now)
    make_passkey(victim, 1)  # the person keeps a passkey: the account keeps a second factor
    clock.advance(30)
    thief = _verified_session(victim, totp_code(device, clock.now))
    operator = _operator(settings)

    assert operator.post(f"{TOTP}{device.pk}/delete/", {"post": "yes"}).status_code == 302

    assert _signed_out(thief)
    assert not UserSession.objects.filter(user=victim).exists()
    ended = AuditEvent.objects.get(action="user.sessions_ended", target_id=victim.public_id)
    assert ended.channel == "admin" and ended.tenant == tenant  # SPEC §7: the operator, in the admin
    assert ended.changes == {"via": "second_factor_changed", "sessions_ended": 1}


def test_delete_selected_on_the_changelist_signs_out_too(settings: Any, clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    passkey = make_passkey(victim, 1)
    thief = _verified_session(victim, codes[0])
    operator = _operator(settings)

    done = operator.post(PASSKEYS, {"action": "delete_selected", "_selected_action": [passkey.pk], "post": "yes"})
    assert done.status_code == 302

    assert _signed_out(thief)
    assert AuditEvent.objects.filter(action="user.sessions_ended", target_id=victim.public_id).count() == 1


def test_a_sign_in_waiting_for_its_second_step_no_longer_completes(settings: Any, clock: Any) -> None:
    """The thief started the JSON sign-in with the password before the removal, and holds a
    recovery code (read off the stolen phone's screenshot): the token is dead after it."""
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    make_passkey(victim, 1)
    thief = Client()
    started = thief.post(
        "/api/v1/auth/login", {"email": victim.email, "password": PASSWORD}, content_type="application/json"
    )
    token = started.json()["token"]

    assert _operator(settings).post(f"{TOTP}{device.pk}/delete/", {"post": "yes"}).status_code == 302

    answer = thief.post("/api/v1/auth/verify-2fa", {"token": token, "code": codes[0]}, content_type="application/json")
    assert answer.status_code == 401, answer.content
    assert _signed_out(thief)


def test_an_operator_removing_their_own_lost_factor_keeps_the_session_doing_it(settings: Any, clock: Any) -> None:
    """The session making the change stays, as when a person removes their own passkey."""
    me = UserFactory(is_staff=True, is_superuser=True)
    device, codes = enrol(me, clock.now)
    passkey = make_passkey(me, 1)
    lost_laptop = _verified_session(me, codes[0])
    operator = _operator(settings, me)
    assert UserSession.objects.filter(user=me, session_key=operator.session.session_key).exists()

    assert operator.post(f"{PASSKEYS}{passkey.pk}/delete/", {"post": "yes"}).status_code == 302

    assert _signed_out(lost_laptop)
    assert operator.get("/api/v1/me").status_code == 200
    assert AuditEvent.objects.get(action="user.sessions_ended", target_id=me.public_id).changes["sessions_ended"] == 1


def test_deleting_an_abandoned_enrolment_signs_nobody_out(settings: Any, clock: Any) -> None:
    """An unconfirmed authenticator (a QR code scanned by nobody) never verified a session."""
    _, person, _ = make_tenant()
    device, codes = enrol(person, clock.now)
    laptop = _verified_session(person, codes[0])
    from accounts import services

    pending = services.totp_enrolment_start(user=person)

    assert _operator(settings).post(f"{TOTP}{pending.pk}/delete/", {"post": "yes"}).status_code == 302

    assert laptop.get("/api/v1/me").json()["two_factor"]["verified"] is True
    assert not AuditEvent.objects.filter(action="user.sessions_ended", target_id=person.public_id).exists()
