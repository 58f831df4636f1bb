"""A person signs in with the same addresses on every sign-in path: the HTML form and the
JSON sign-ins (``POST /api/v1/auth/login``, TigerTrust's ``POST /api/auth/login``, the
credential exchange ``POST /api/v1/auth/token`` and Taffy's ``POST /auth/token``) accept the
account's primary address and its other addresses alike, count failures against the
account (SPEC §8), name it the same way in the audit log, and handle SSO the same way."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, make_tenant, require_sso

pytestmark = pytest.mark.django_db

PRIMARY = "ada@home.test"
SECOND = "ada.work@other.test"


@pytest.fixture
def ada() -> Any:
    user = UserFactory(email=PRIMARY)
    EmailAddress.objects.create(user=user, email=SECOND, verified=True, primary=False)
    return user


@pytest.fixture
def thresholds(settings: Any) -> Any:
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 4
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 50
    return settings


def html(email: str, password: str, ip: str = "192.0.2.1") -> Any:
    return Client().post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def api(email: str, password: str, ip: str = "192.0.2.1", path: str = "/api/v1/auth/login") -> Any:
    return APIClient().post(path, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_the_form_accepts_the_second_address(ada: Any) -> None:
    assert html(SECOND, PASSWORD).status_code == 302


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/auth/login"])
@pytest.mark.parametrize("spelling", [SECOND, "ADA.WORK@OTHER.TEST", "ａda.work@other.test"])
def test_json_login_accepts_the_second_address_too(ada: Any, path: str, spelling: str) -> None:
    r = api(spelling, PASSWORD, path=path)
    assert r.status_code == 200, r.content
    assert r.json()["user"]["user"]["email"] == PRIMARY
    entry = AuditEvent.objects.get(action="user.login")
    assert entry.actor_email == PRIMARY


def test_credential_exchange_accepts_the_second_address() -> None:
    _, owner, (org,) = make_tenant()
    EmailAddress.objects.create(user=owner, email="boss@elsewhere.test", verified=True, primary=False)
    r = APIClient().post(
        "/api/v1/auth/token",
        {"email": "Boss@Elsewhere.test", "password": PASSWORD, "organizationId": org.public_id},
        format="json",
    )
    assert r.status_code == 201, r.content
    taffy = APIClient().post(
        "/auth/token", {"username": "boss@elsewhere.test", "password": PASSWORD, "organizationId": org.public_id}
    )
    assert taffy.status_code == 200, taffy.content
    assert taffy.json()["data"]["key"].startswith("tater_")


def test_wrong_passwords_through_the_second_address_lock_the_account(ada: Any, thresholds: Any) -> None:
    assert api(SECOND, "wrong-1", "192.0.2.11").json()["error"] == "INVALID_CREDENTIALS"
    assert html(PRIMARY, "wrong-2", "192.0.2.12").status_code == 200
    assert api("ADA.WORK@other.test", "wrong-3", "192.0.2.13").json()["error"] == "INVALID_CREDENTIALS"
    fourth = api(PRIMARY, "wrong-4", "192.0.2.14")
    assert (fourth.status_code, fourth.json()["error"]) == (429, "LOCKED_OUT")
    # One account, one lock: its other address is locked too, right password or not.
    locked = api(SECOND, PASSWORD, "198.51.100.1")
    assert (locked.status_code, locked.json()["error"]) == (429, "LOCKED_OUT")
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert failed.count() == 4
    # Every failure names the account by its own address, whichever address reached it.
    assert {e.actor_email for e in failed} == {PRIMARY}
    assert {e.target_id for e in failed} == {str(ada.public_id)}


def test_an_sso_member_through_a_personal_address_gets_the_wrong_password_answer(ada: Any) -> None:
    """The form answers "not correct" without checking the password (right and wrong alike):
    the JSON login must not tell them apart either, nor tell that SSO governs the account."""
    tenant, _, (org,) = make_tenant(name="Corp")
    from orgs import services as org_services

    org_services.org_member_set(organization=org, user=ada, role="member")
    EmailAddress.objects.create(user=ada, email="ada@corp.test", verified=True, primary=False)
    require_sso(tenant, "corp.test")
    right, wrong = api(SECOND, PASSWORD), api(SECOND, "wrong")
    assert (right.status_code, right.json()["error"]) == (401, "INVALID_CREDENTIALS")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "INVALID_CREDENTIALS")
    # Through the company address: SSO_REQUIRED, as the form sends it to the IdP.
    corp = api("ada@corp.test", PASSWORD)
    assert (corp.status_code, corp.json()["error"]) == (403, "SSO_REQUIRED")
    assert html("ada@corp.test", PASSWORD).status_code == 302
    failed = AuditEvent.objects.filter(action="user.login_failed")
    assert {e.actor_email for e in failed} == {PRIMARY}
    assert not AuditEvent.objects.filter(action="user.login").exists()
