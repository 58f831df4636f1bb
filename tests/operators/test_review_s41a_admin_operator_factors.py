"""SPEC §10 (the admin behind a verified second factor), §13 (passkeys or TOTP) and the admin's
own rule that another operator's account, addresses and sessions are the superusers' to change
(accounts/admin.py). Found by review A (s41), as a staff operator without superuser status
whose group may delete second-factor devices (to help people who lost a phone): they could
delete a superuser's TOTP device or passkey, one by one or with "Delete selected". That is the
second factor of an account with every power: whoever holds its password (phished, reused)
then signs in with the password alone and enrols a factor of their own, and the admin lets
them in. Another operator's factors are now, like their sessions, the superusers' to remove;
people's own and non-operators' stay removable by whoever has the permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import UserFactory, make_passkey

pytestmark = pytest.mark.django_db
TOTP = "/admin/otp_totp/totpdevice/"
PASSKEYS = "/admin/django_otp_webauthn/webauthncredential/"


def staff_who_may_delete_factors(settings) -> tuple[Client, object]:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the 2FA gate has its own tests
    staff = UserFactory(is_staff=True)
    codenames = [f"{verb}_{model}" for verb in ("view", "delete") for model in ("totpdevice", "webauthncredential")]
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(staff)
    return client, staff


@pytest.mark.parametrize("operator", ["superuser", "staff"])
def test_staff_cannot_delete_another_operators_totp_device(settings, operator: str) -> None:
    client, _ = staff_who_may_delete_factors(settings)
    other = UserFactory(is_staff=True, is_superuser=operator == "superuser")
    device, _ = enrol(other)

    assert client.post(f"{TOTP}{device.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(TOTP, {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"})

    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not AuditEvent.objects.filter(action="mfa.disabled").exists()


def test_staff_cannot_delete_a_superusers_passkey(settings) -> None:
    client, _ = staff_who_may_delete_factors(settings)
    boss = UserFactory(is_staff=True, is_superuser=True)
    passkey = make_passkey(boss, 1)

    assert client.post(f"{PASSKEYS}{passkey.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(PASSKEYS, {"action": "delete_selected", "_selected_action": [passkey.pk], "post": "yes"})

    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_guard_staff_still_remove_a_customers_lost_device_and_their_own(settings) -> None:
    client, staff = staff_who_may_delete_factors(settings)
    customer_device, _ = enrol(UserFactory())
    own_device, _ = enrol(staff)

    for device in (customer_device, own_device):
        r = client.post(f"{TOTP}{device.pk}/delete/", {"post": "yes"})
        assert r.status_code == 302, r.status_code
        assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="mfa.disabled").count() == 2
