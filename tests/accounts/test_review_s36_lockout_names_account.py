"""An ``auth.locked_out`` entry of an account lockout names a known account by its stored
address, as its ``user.login`` and ``user.login_failed`` entries do, so the Activity Log
shows one spelling per person (SPEC §8); an address with no account is named by its
normalized form, and an address lockout by the client address."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thresholds(settings: Any) -> Any:
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 2
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 50
    return settings


def api(email: str, password: str, ip: str) -> Any:
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_account_lockout_names_the_stored_address(thresholds: Any) -> None:
    UserFactory(email="Straße@X.test")
    api("STRASSE@x.test", "wrong-1", "192.0.2.1")
    assert api("ｓtrasse@x.test", "wrong-2", "192.0.2.2").status_code == 429
    locked = AuditEvent.objects.get(action="auth.locked_out")
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert {e.actor_email for e in failed} == {"straße@x.test"}
    assert locked.actor_email == "straße@x.test"
    assert locked.changes["account"] == "Straße@X.test"
    assert locked.changes["scope"] == "account"


def test_lockout_of_an_address_without_account_names_it_normalized(thresholds: Any) -> None:
    api("NOBODY@Ｘ.test", "wrong-1", "192.0.2.1")
    assert api("Nobody@x.TEST", "wrong-2", "192.0.2.2").status_code == 429
    locked = AuditEvent.objects.get(action="auth.locked_out")
    assert locked.changes["account"] == locked.actor_email == "nobody@x.test"


def test_client_lockout_names_the_address(settings: Any) -> None:
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 2
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 50
    api("a@x.test", "wrong", "192.0.2.9")
    assert api("b@x.test", "wrong", "192.0.2.9").status_code == 429
    locked = AuditEvent.objects.get(action="auth.locked_out")
    assert locked.changes["address"] == "192.0.2.9"
    assert "account" not in locked.changes and locked.actor_email == ""
