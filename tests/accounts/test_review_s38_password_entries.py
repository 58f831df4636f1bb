"""The Activity Log's ``user.password_changed`` entry of a password change or a first
password set said nothing (``changes`` empty): a reader could not tell a changed password
from a password added to an SSO-only account (how an attacker holding a session would get a
lasting way in), nor that the change signed the person's other browsers out. The entry
names how (``via``: change, set, reset); a reset, made signed out, also how many sessions
it ended."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-1"
NEW_PASSWORD = "an-entirely-new-passphrase-42"


def _entry(user: object) -> dict[str, object]:
    entry = AuditEvent.objects.filter(action="user.password_changed", target_id=user.public_id).get()
    return entry.changes


def _signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_change_says_so_and_signs_the_other_browsers_out() -> None:
    user = UserFactory()
    user.set_password(PASSWORD)
    user.save()
    laptop, phone = _signed_in(user), _signed_in(user)
    assert phone.get("/api/v1/me").status_code == 200
    response = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _entry(user) == {"via": "change"}
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").status_code == 200


def test_a_first_password_on_an_sso_only_account_is_told_apart() -> None:
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    response = _signed_in(user).post("/accounts/password/set/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _entry(user) == {"via": "set"}
