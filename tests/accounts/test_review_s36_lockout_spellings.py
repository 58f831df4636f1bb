"""Failed sign-ins are counted against the account whatever spelling reached it (SPEC §8:
emails compared after NFKC normalisation and case folding), on every sign-in path: the HTML
sign-in form and the JSON ``POST /api/v1/auth/login`` share one count and one lockout, and
every ``user.login_failed`` entry names the account the same way."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thresholds(settings: Any) -> Any:
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 4
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 50
    return settings


def html(email: str, password: str, ip: str) -> Any:
    return Client().post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def api(email: str, password: str, ip: str) -> Any:
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


@pytest.mark.parametrize(
    "stored, spellings",
    [
        ("strasse@x.test", ["STRASSE@x.test", "Strasse@X.TEST", "ｓｔｒａｓｓｅ@x.test"]),
        ("owner@x.test", ["OWNER@x.test", "ｏwner@x.test", "Owner@ｘ.test"]),
    ],
)
def test_every_spelling_on_every_path_counts_toward_one_lockout(
    thresholds: Any, stored: str, spellings: list[str]
) -> None:
    user = UserFactory(email=stored)
    first = html(spellings[0], "wrong-1", "192.0.2.1")
    assert first.status_code == 200  # the form again, refused
    assert api(spellings[1], "wrong-2", "192.0.2.2").json()["error"] == "INVALID_CREDENTIALS"
    assert html(spellings[2], "wrong-3", "192.0.2.3").status_code == 200
    # The fourth failure, by yet another path and spelling, locks the account.
    fourth = api(stored.upper(), "wrong-4", "192.0.2.4")
    assert (fourth.status_code, fourth.json()["error"]) == (429, "LOCKED_OUT")
    # Locked on both paths, whatever the spelling, even with the right password.
    locked = api(stored, PASSWORD, "198.51.100.1")
    assert (locked.status_code, locked.json()["error"]) == (429, "LOCKED_OUT")
    assert html(spellings[2], PASSWORD, "198.51.100.2").status_code == 429
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1
    entry = AuditEvent.objects.get(action="auth.locked_out")
    assert entry.changes["account"] == stored
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert failed.count() == 4
    assert {e.changes["email"] for e in failed} == {stored}
    assert {e.actor_email for e in failed} == {stored}
    assert {e.target_id for e in failed} == {str(user.public_id)}


def test_a_case_folded_spelling_of_a_stored_sharp_s_reaches_the_same_count(thresholds: Any) -> None:
    """ "STRASSE" folds to "strasse", as "straße" does: one account, one count."""
    user = UserFactory(email="straße@x.test")
    for i, (path, spelling) in enumerate([(html, "STRASSE@x.test"), (api, "strasse@x.test"), (html, "Strasse@x.test")]):
        path(spelling, f"wrong-{i}", f"192.0.2.{10 + i}")
    fourth = api("STRASSE@X.TEST", "wrong-4", "192.0.2.20")
    assert (fourth.status_code, fourth.json()["error"]) == (429, "LOCKED_OUT")
    assert html("strasse@x.test", PASSWORD, "198.51.100.3").status_code == 429
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert {e.target_id for e in failed} == {str(user.public_id)}
    # Filed under the account's own address, as its sign-ins are: the Activity Log filtered
    # by the person's address shows the failed attempts against their account too.
    assert {e.changes["email"] for e in failed} == {"straße@x.test"}
    assert {e.actor_email for e in failed} == {"straße@x.test"}


def test_failed_and_successful_sign_ins_name_the_account_alike(settings: Any) -> None:
    user = UserFactory(email="straße@x.test")
    html("STRASSE@x.test", "wrong", "192.0.2.30")
    api("ｓtrasse@x.test", "wrong", "192.0.2.31")
    assert html("Strasse@x.test", PASSWORD, "192.0.2.32").status_code == 302
    signed_in = AuditEvent.objects.get(action="user.login")
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert failed.count() == 2
    assert {e.actor_email for e in failed} == {signed_in.actor_email}
    assert {e.target_id for e in failed} == {signed_in.target_id} == {str(user.public_id)}
