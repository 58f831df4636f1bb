"""JSON sign-in (TigerTrust flow): login with and without 2FA, verify-2fa, logout, me,
error codes, timing parity and lockout wiring."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import get_hasher
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from accounts.models import LoginChallenge, UserSession
from audit.models import AuditEvent
from tater.api.errors import ApiError
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def login(api: APIClient, email: str, password: str = PASSWORD) -> Any:
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def test_login_without_2fa_gives_a_new_session(api: APIClient) -> None:
    tenant, owner, (org,) = make_tenant()
    first = login(api, owner.email)
    assert first.status_code == 200
    body = first.json()
    assert body["requires2FA"] is False
    assert body["user"]["user"]["email"] == owner.email
    key1 = api.cookies["sessionid"].value
    assert first.cookies["sessionid"]["httponly"]
    assert first.cookies["sessionid"]["samesite"] == "Strict"
    assert Session.objects.filter(session_key=key1).exists()
    # Same user signs in again: a fresh id, the old one is gone.
    second = login(api, owner.email)
    key2 = api.cookies["sessionid"].value
    assert second.status_code == 200 and key2 != key1
    assert not Session.objects.filter(session_key=key1).exists()
    assert UserSession.objects.filter(user=owner, session_key=key2).exists()
    me = api.get("/api/v1/me").json()
    assert me["authentication"] == "session"
    assert me["tenants"] == [
        {
            "id": tenant.public_id,
            "name": tenant.name,
            "plan": "free",
            "role": "owner",
            "require_2fa": False,
            "require_sso": False,
        }
    ]
    assert me["organizations"][0]["id"] == org.public_id
    assert me["current_organization"]["id"] == org.public_id
    assert me["two_factor"] == {"enabled": False, "verified": False}
    login_events = AuditEvent.objects.filter(action="user.login", channel="api")
    assert login_events.count() == 2


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
def test_wrong_credentials_same_answer_for_unknown_email(api: APIClient, email: str) -> None:
    UserFactory(email="alice@example.com")
    cls = type(get_hasher())
    with (
        mock.patch.object(cls, "encode", autospec=True, side_effect=cls.encode) as encode,
        mock.patch.object(cls, "verify", autospec=True, side_effect=cls.verify) as verify,
    ):
        response = login(api, email, "wrong-password")
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "INVALID_CREDENTIALS"
    assert body["message"] == "Invalid email or password"
    # Exactly one password hash computed either way (verify() hashes through encode()):
    # no timing tell between an unknown email and a wrong password.
    assert encode.call_count == 1
    assert verify.call_count == (1 if email == "alice@example.com" else 0)
    assert AuditEvent.objects.filter(action="user.login_failed", actor_email=email).exists()
    assert "sessionid" not in response.cookies


def test_inactive_user_gets_invalid_credentials(api: APIClient) -> None:
    user = UserFactory(is_active=False)
    assert login(api, user.email).json()["error"] == "INVALID_CREDENTIALS"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "x"}, "email"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"email": "a@example.com"}, "password"),
    ],
)
def test_bad_body_is_validation_error(api: APIClient, body: dict[str, str], field: str) -> None:
    response = api.post("/api/v1/auth/login", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert field in response.json()["details"]["fields"]


def test_login_with_2fa_then_verify(api: APIClient, clock: Any) -> None:
    user = UserFactory()
    device, codes = enrol(user, clock.now)
    first = login(api, user.email)
    assert first.status_code == 200
    body = first.json()
    assert body["requires2FA"] is True and body["token"].startswith("2fa_")
    assert "sessionid" not in first.cookies
    # Only a digest of the token is stored.
    assert not LoginChallenge.objects.filter(digest=body["token"]).exists()
    assert LoginChallenge.objects.filter(user=user).count() == 1
    assert api.get("/api/v1/me").status_code == 401

    clock.advance(30)
    wrong = api.post("/api/v1/auth/verify-2fa", {"token": body["token"], "code": "000000"}, format="json")
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_OTP"
    clock.advance(5)  # past django-otp's throttle delay
    ok = api.post(
        "/api/v1/auth/verify-2fa", {"token": body["token"], "code": totp_code(device, clock.now)}, format="json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["user"]["two_factor"] == {"enabled": True, "verified": True}
    me = api.get("/api/v1/me").json()
    assert me["two_factor"]["verified"] is True

    # The token is single-use.
    again = APIClient().post("/api/v1/auth/verify-2fa", {"token": body["token"], "code": codes[0]}, format="json")
    assert again.status_code == 401 and again.json()["error"] == "UNAUTHORIZED"


def test_verify_with_recovery_code_and_replay_refused(api: APIClient, clock: Any) -> None:
    user = UserFactory()
    device, codes = enrol(user, clock.now)
    token = login(api, user.email).json()["token"]
    assert (
        api.post("/api/v1/auth/verify-2fa", {"token": token, "code": codes[3].lower()}, format="json").status_code
        == 200
    )
    other = APIClient()
    token2 = login(other, user.email).json()["token"]
    reused = other.post("/api/v1/auth/verify-2fa", {"token": token2, "code": codes[3]}, format="json")
    assert reused.status_code == 401 and reused.json()["error"] == "INVALID_OTP"


def test_2fa_token_expires(api: APIClient, clock: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user, clock.now)
    token = login(api, user.email).json()["token"]
    LoginChallenge.objects.update(expires_at="2000-01-01T00:00:00Z")
    clock.advance(30)
    response = api.post(
        "/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, clock.now)}, format="json"
    )
    assert response.status_code == 401 and response.json()["error"] == "UNAUTHORIZED"


def test_2fa_token_is_burnt_after_too_many_wrong_codes(api: APIClient, clock: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user, clock.now)
    token = login(api, user.email).json()["token"]
    for _ in range(5):
        clock.advance(120)
        assert api.post("/api/v1/auth/verify-2fa", {"token": token, "code": "123456"}, format="json").status_code == 401
    clock.advance(120)
    response = api.post(
        "/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, clock.now)}, format="json"
    )
    assert response.json()["error"] == "UNAUTHORIZED"


def test_logout_needs_csrf_and_ends_the_session() -> None:
    user = UserFactory()
    api = APIClient(enforce_csrf_checks=True)
    # Sign-in itself is callable by scripts without a CSRF token.
    assert login(api, user.email).status_code == 200
    key = api.cookies["sessionid"].value
    refused = api.post("/api/v1/auth/logout")
    assert refused.status_code == 403
    csrf = api.cookies["csrftoken"].value
    response = api.post("/api/v1/auth/logout", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 204
    assert not Session.objects.filter(session_key=key).exists()
    assert api.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="user.logout").exists()


def test_session_api_writes_keep_csrf_protection() -> None:
    tenant, owner, (org,) = make_tenant()
    api = APIClient(enforce_csrf_checks=True)
    login(api, owner.email)
    response = api.post("/api/v1/keys/", {"name": "k"}, format="json")
    assert response.status_code == 403


def test_me_with_an_api_key(api: APIClient, world: dict[str, Any]) -> None:
    response = api.get("/api/v1/me", HTTP_X_API_KEY=world["member_raw"])
    assert response.status_code == 200
    body = response.json()
    assert body["authentication"] == "api_key"
    assert body["user"]["email"] == world["member"].email
    assert [o["id"] for o in body["organizations"]] == [world["org1"].public_id]
    assert body["current_organization"]["id"] == world["org1"].public_id


def test_me_without_credentials_is_401(api: APIClient) -> None:
    response = api.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"] == "UNAUTHORIZED"


class FakeLockout:
    """Stands in for tater.lockout's counters: locks after ``limit`` failures."""

    def __init__(self, limit: int) -> None:
        self.limit, self.calls = limit, []

    def register_failure(self, *, ip: str, kind: str, account: str | None = None, count_client: bool = True) -> None:
        self.calls.append((ip, kind, account))
        if len(self.calls) >= self.limit:
            raise ApiError(
                "Too many failed attempts", code="LOCKED_OUT", status_code=429, headers={"Retry-After": "900"}
            )

    def check_account(self, account: str) -> None:
        if len(self.calls) >= self.limit:
            raise ApiError(
                "Too many failed attempts", code="LOCKED_OUT", status_code=429, headers={"Retry-After": "900"}
            )


@pytest.fixture
def fake_lockout() -> Any:
    fake = FakeLockout(limit=3)
    with (
        mock.patch("tater.lockout.register_failure", fake.register_failure),
        mock.patch("tater.lockout.check_account", fake.check_account),
    ):
        yield fake


def test_lockout_on_repeated_wrong_passwords(api: APIClient, fake_lockout: FakeLockout) -> None:
    user = UserFactory()
    statuses = [login(api, user.email, "wrong-password").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    locked = login(api, user.email)  # even the right password while locked
    assert locked.status_code == 429
    assert locked.json()["error"] == "LOCKED_OUT"
    assert locked["Retry-After"] == "900"
    assert fake_lockout.calls[0] == ("127.0.0.1", "password", user.email)


def test_lockout_on_wrong_otp_codes(api: APIClient, clock: Any, fake_lockout: FakeLockout) -> None:
    user = UserFactory()
    enrol(user, clock.now)
    token = login(api, user.email).json()["token"]
    answers = []
    for _ in range(3):
        clock.advance(60)
        answers.append(
            api.post("/api/v1/auth/verify-2fa", {"token": token, "code": "111111"}, format="json").status_code
        )
    assert answers == [401, 401, 429]
    assert {kind for _, kind, _ in fake_lockout.calls} == {"otp"}


def test_ui_sign_in_lockout_page(client: Any, fake_lockout: FakeLockout) -> None:
    user = UserFactory()
    for _ in range(2):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})
    response = client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "temporarily locked" in response.content.decode()
