"""Review s44 (F): an operator deletes an account at the instant a recovery code answers its
sign-in (SPEC §8, §10, §13).

The person (or whoever holds their printed codes) answers the JSON sign-in's second step with
a recovery code while an operator deletes the account in the admin. The code's check
(django-otp) locks the codes' device row, then marks the code used; the deletion removed the
account's codes, then their device: each waited for the other and PostgreSQL aborted one
("deadlock detected", a 500). Expectations: both finish; the account is gone, and the sign-in
is either answered first or refused, never an error.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.db.models.signals import post_delete
from django.test import Client

from accounts.models import RecoveryCode, RecoveryCodeDevice
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def recovery_code_deleted() -> None:
    """Reached by a deletion once it has deleted a recovery code's row (a race pauses here)."""


def _on_code_deleted(**kwargs: Any) -> None:
    recovery_code_deleted()  # looked up when called: while_held replaces it


@pytest.mark.parametrize("first", ["sign_in", "deletion"])
def test_an_operator_deleting_the_account_while_a_recovery_code_answers(settings: Any, first: str) -> None:
    settings.TATER_ADMIN_REQUIRES_OTP = False
    user = UserFactory()  # no tenant: none is left without an owner
    _device, codes = enrol(user)
    person = Client()
    started = person.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )
    token = started.json()["token"]
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    statuses: dict[str, int] = {}

    def sign_in() -> None:
        answer = {"token": token, "code": codes[0]}
        statuses["sign_in"] = person.post(
            "/api/v1/auth/verify-2fa", answer, content_type="application/json"
        ).status_code

    def deletion() -> None:
        statuses["deletion"] = staff.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}).status_code

    calls = {"sign_in": soon(sign_in), "deletion": soon(deletion)}
    # Each pauses once it holds what it locks first: the check the codes' device, the deletion
    # (before the fix) the codes it deleted.
    pause = (
        (RecoveryCodeDevice, "verify_token") if first == "sign_in" else (sys.modules[__name__], "recovery_code_deleted")
    )
    second = "deletion" if first == "sign_in" else "sign_in"
    post_delete.connect(_on_code_deleted, sender=RecoveryCode)
    try:
        errors = while_held(calls[first], calls[second], pause_in=pause)
    finally:
        post_delete.disconnect(_on_code_deleted, sender=RecoveryCode)

    assert errors == []
    assert statuses["deletion"] == 302, statuses
    # Answered by a code that was there, or refused once the account went: never a 500.
    assert statuses["sign_in"] in ((200, 401) if first == "sign_in" else (401,)), statuses
    assert not type(user).objects.filter(pk=user.pk).exists()
    assert not RecoveryCodeDevice.objects.filter(user_id=user.pk).exists()
    assert person.get("/api/v1/me").status_code == 401
