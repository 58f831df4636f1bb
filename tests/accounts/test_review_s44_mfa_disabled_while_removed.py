"""Review s44 (F): the person turns two-factor authentication off at the instant an operator
removes their lost authenticator (SPEC §8, §10, §13).

Someone who lost their phone asks support to remove it and, signed in on a computer still
verified, turns two-factor authentication off meanwhile. The operator's removal locks the
account, deletes the authenticator, then (no other app or passkey left) the recovery codes;
"Turn off" deleted the recovery codes, then the authenticators, without the account's row:
each waited for the other and PostgreSQL aborted one ("deadlock detected", a 500).
Expectations: both finish, whichever came first; no factor is left, and the log says once
that it went (the later of the two found nothing left to remove).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.db.models.signals import post_delete
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa, services
from accounts.models import RecoveryCodeDevice
from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
FACTORS = (TOTPDevice, RecoveryCodeDevice)


def factor_deleted() -> None:
    """Reached by a change once it has deleted a factor's row (a race pauses here)."""


def _on_factor_deleted(**kwargs: Any) -> None:
    factor_deleted()  # looked up when called: while_held replaces it


@pytest.mark.parametrize("first", ["operator", "person"])
def test_turning_two_factor_off_while_an_operator_removes_the_lost_authenticator(first: str) -> None:
    user = UserFactory()  # no tenant requiring 2FA: turning it off is allowed
    device, _codes = enrol(user)
    calls = {
        "operator": soon(lambda: mfa.mfa_device_remove(device=TOTPDevice.objects.get(pk=device.pk))),
        "person": soon(lambda: mfa.mfa_disable(user=type(user).objects.get(pk=user.pk))),
    }
    second = "person" if first == "operator" else "operator"
    for model in FACTORS:
        post_delete.connect(_on_factor_deleted, sender=model)
    try:
        errors = while_held(calls[first], calls[second], pause_in=(sys.modules[__name__], "factor_deleted"))
    finally:
        for model in FACTORS:
            post_delete.disconnect(_on_factor_deleted, sender=model)

    assert errors == []
    assert not services.has_2fa(type(user).objects.get(pk=user.pk))
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="mfa.disabled", target_id=str(user.public_id)).count() == 1
