"""Review s38 (D): the signed-in pages that ask for the password again (turning off 2FA,
changing the password) are password checks like any other (SPEC §6): a wrong password there
is a failed sign-in, counted against the account, and while the account's password sign-in
is locked they check no password either. Before, both compared the password outside the
lockout, without limit: whoever held a signed-in session (a cookie left on a shared
computer) could try passwords there for as long as they liked, even on an account whose
password sign-in the lockout had just locked."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from accounts import services
from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-Brand-new-passphrase-77"


def signed_in(user: Any, codes: list[str] | None = None) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    if codes:
        assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    return client


def json_login(user: Any, password: str = PASSWORD) -> Any:
    return APIClient(REMOTE_ADDR="203.0.113.80").post(
        "/api/v1/auth/login", {"email": user.email, "password": password}, format="json"
    )


def change(client: Client, old: str) -> Any:
    return client.post(
        "/accounts/password/change/", {"oldpassword": old, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


@override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=3)
def test_guessing_on_the_turn_off_2fa_form_locks_the_account(clock: Any) -> None:
    user = UserFactory()
    _, codes = enrol(user, clock.now)
    client = signed_in(user, codes)
    statuses = [client.post("/accounts/2fa/disable/", {"password": f"guess-{i}"}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]  # the third failure locks, as on the sign-in form
    right = client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert right.status_code == 429 and services.has_2fa(user)
    failed = AuditEvent.objects.filter(action="user.login_failed", actor_email=user.email)
    assert failed.count() == 3 and {e.changes["method"] for e in failed} == {"password"}
    locked = json_login(user)
    assert locked.status_code == 429 and locked.json()["error"] == "LOCKED_OUT"


@override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=3)
def test_a_locked_account_gets_no_password_checked_on_the_turn_off_2fa_form(clock: Any) -> None:
    user = UserFactory()
    _, codes = enrol(user, clock.now)
    client = signed_in(user, codes)
    for _ in range(3):
        json_login(user, "wrong")  # someone else locks the account's password sign-in
    assert json_login(user).status_code == 429
    assert client.post("/accounts/2fa/disable/", {"password": PASSWORD}).status_code == 429
    assert services.has_2fa(user)


@override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=3)
def test_guessing_the_current_password_on_the_change_form_locks_the_account() -> None:
    user = UserFactory()
    client = signed_in(user)
    statuses = [change(client, f"guess-{i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    assert change(client, PASSWORD).status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert json_login(user).status_code == 429


@override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=3)
def test_the_right_passwords_on_those_forms_still_work(clock: Any) -> None:
    user = UserFactory()
    _, codes = enrol(user, clock.now)
    client = signed_in(user, codes)
    client.post("/accounts/2fa/disable/", {"password": "one-wrong-guess"})
    assert client.post("/accounts/2fa/disable/", {"password": PASSWORD}).status_code == 302
    assert not services.has_2fa(user)
    assert change(client, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
