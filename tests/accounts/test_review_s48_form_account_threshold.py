"""Review s48 (J): the sign-in form locks an account at the lockout's threshold, not before
(SPEC §6: "10 failed sign-ins against one account within 15 minutes lock that account's
password and OTP sign-in for 15 minutes (429 LOCKED_OUT, Retry-After)", defaults settable).

Before, allauth's own per-account limit (``ACCOUNT_RATE_LIMITS["login_failed"]``
``5/300s/key``) refused the form's sixth attempt in five minutes, the right password
included, with a "Too many failed login attempts" form error (200, no Retry-After), while the
JSON sign-in still admitted the same password: an attacker needed half the failures the
SPEC allows to keep the owner off the form, and ``TATER_LOCKOUT_ACCOUNT_FAILURES`` did not
reach it."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REFUSED = "Too many failed login attempts"


def form_sign_in(n: int, email: str, password: str) -> Client:
    # A new address each time: the per-address limits are not what this is about.
    return Client(REMOTE_ADDR=f"203.0.113.{n}").post("/accounts/login/", {"login": email, "password": password})


def test_nine_failures_leave_the_form_open_to_the_right_password() -> None:
    user = UserFactory()
    for n in range(1, 10):
        failed = form_sign_in(n, user.email, f"guess-{n}")
        assert failed.status_code == 200 and REFUSED not in failed.content.decode()
    assert form_sign_in(50, user.email, PASSWORD).status_code == 302


def test_the_tenth_failure_locks_the_form_with_the_lockouts_answer() -> None:
    user = UserFactory()
    answers = [form_sign_in(n, user.email, f"guess-{n}").status_code for n in range(1, 11)]
    assert answers == [200] * 9 + [429]
    locked = form_sign_in(60, user.email, PASSWORD)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


@override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=15)
def test_a_higher_threshold_reaches_the_form() -> None:
    user = UserFactory()
    for n in range(1, 15):
        assert form_sign_in(n, user.email, f"guess-{n}").status_code == 200
    assert form_sign_in(70, user.email, PASSWORD).status_code == 302
