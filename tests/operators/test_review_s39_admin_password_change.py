"""The admin's "Change password" page (``/admin/password_change/``, SPEC §10: operators behind
2FA) checked the current password with Django's own form: outside the account and address
lockout (SPEC §6), without the ``user.login_failed`` entry of a wrong one and without the
``user.password_changed`` entry of the change (SPEC §7), while sign-in and every other page
that asks for the password again go through them. A stolen, unattended admin session could
guess the password there without limit. The admin now sends the operator to the account's
own password page, which does all of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory
from tests.security.test_session_diff_review import signed_in_with_code

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-New-and-long-passphrase-39"
ACCOUNT_PAGE = "/accounts/password/change/"


def staff_in_admin() -> tuple[Client, Any]:
    operator = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(operator)
    client = signed_in_with_code(operator, codes[0])
    assert client.get("/admin/").status_code == 200
    return client, operator


def change(client: Client, url: str, old: str) -> Any:
    return client.post(
        url,
        {
            "old_password": old,
            "oldpassword": old,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )


@override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=2)
def test_a_locked_account_cannot_change_its_password_through_the_admin() -> None:
    client, operator = staff_in_admin()
    for _ in range(2):
        change(client, "/admin/password_change/", "not-the-password-1")
        change(client, ACCOUNT_PAGE, "not-the-password-2")
    change(client, "/admin/password_change/", PASSWORD)
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert not operator.check_password(NEW_PASSWORD)


def test_wrong_guesses_through_the_admin_never_go_unrecorded() -> None:
    client, operator = staff_in_admin()
    before = AuditEvent.objects.filter(action="user.login_failed").count()
    change(client, "/admin/password_change/", "not-the-password-3")
    checked = AuditEvent.objects.filter(action="user.login_failed").count() - before
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    # Either the admin refuses to check it at all, or it checks it as sign-in does.
    response = client.get("/admin/password_change/")
    assert checked == 1 or (response.status_code == 302 and response["Location"] == ACCOUNT_PAGE)


def test_the_admins_change_password_link_leads_to_the_audited_account_page() -> None:
    client, operator = staff_in_admin()
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == ACCOUNT_PAGE
    done = change(client, response["Location"], PASSWORD)
    assert done.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user.password_changed", actor_user=operator).count() == 1
    assert client.get("/admin/").status_code == 200  # still signed in, still verified


def test_signed_out_visitors_still_go_to_sign_in() -> None:
    response = Client().get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
