"""Review s42 (B): an operator who deletes a person's lost authenticator in the admin lets
them back in.

SPEC §10 (the admin), §8 (2FA: TOTP and single-use recovery codes), §13 (passkeys). The help
desk case: someone lost the phone with their authenticator app and the recovery codes with
it, and asks an operator to remove the device (README: "the user enrols again"). The admin
lists TOTP devices and passkeys, not the recovery codes. Deleting the last authenticator or
passkey left the codes behind, so the account still "had" a second factor: the sign-in kept
asking for a code nobody has, and no admin page could remove it. As when the owner removes
their last passkey, the codes go with the last real factor: the person signs in with the
password and enrols again (at once, where their tenant requires 2FA)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import RecoveryCodeDevice
from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, make_passkey, make_tenant, operator_client

pytestmark = pytest.mark.django_db
TOTP = "/admin/otp_totp/totpdevice/"
PASSKEYS = "/admin/django_otp_webauthn/webauthncredential/"


def _signs_in_with_the_password_alone(user: Any) -> bool:
    client = Client()
    step = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    return step.status_code == 302 and step["Location"] != "/accounts/2fa/challenge/"


def test_deleting_the_lost_authenticator_lets_its_owner_sign_in_and_enrol_again(settings: Any, clock: Any) -> None:
    tenant, person, _ = make_tenant()
    device, _codes = enrol(person, clock.now)  # TOTP and ten recovery codes, both lost
    operator = operator_client(settings)

    done = operator.post(f"{TOTP}{device.pk}/delete/", {"post": "yes"})
    assert done.status_code == 302

    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not RecoveryCodeDevice.objects.filter(user=person).exists()
    assert _signs_in_with_the_password_alone(person)
    event = AuditEvent.objects.filter(action="mfa.disabled", tenant=tenant).latest("pk")
    assert event.changes["by"] == "operator" and event.changes["method"] == "totp"
    assert event.changes["second_factor_left"] is False
    assert event.changes["methods_removed"] == ["totp", "recovery_code"]


def test_deleting_the_last_passkey_takes_the_recovery_codes_too(settings: Any, clock: Any) -> None:
    _, person, _ = make_tenant()
    passkey = make_passkey(person, 1)
    enrol(person, clock.now)
    TOTPDevice.objects.filter(user=person).delete()  # passkey + recovery codes left
    operator = operator_client(settings)

    assert operator.post(f"{PASSKEYS}{passkey.pk}/delete/", {"post": "yes"}).status_code == 302

    assert not WebAuthnCredential.objects.filter(user=person).exists()
    assert not RecoveryCodeDevice.objects.filter(user=person).exists()
    assert _signs_in_with_the_password_alone(person)


def test_deleting_one_of_two_factors_keeps_the_other_and_the_codes(settings: Any, clock: Any) -> None:
    tenant, person, _ = make_tenant()
    passkey = make_passkey(person, 1)
    enrol(person, clock.now)
    operator = operator_client(settings)

    assert operator.post(f"{PASSKEYS}{passkey.pk}/delete/", {"post": "yes"}).status_code == 302

    assert TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    assert RecoveryCodeDevice.objects.filter(user=person).exists()
    assert not _signs_in_with_the_password_alone(person)
    event = AuditEvent.objects.filter(action="mfa.disabled", tenant=tenant).latest("pk")
    assert event.changes["second_factor_left"] is True
