"""Sign-in lockout end to end with the real tater.lockout (no stand-in): JSON login,
credential exchange and the 2FA step, by account and by client address."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.accounts.conftest import Clock, enrol, totp_code
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def thresholds(settings: Any) -> Any:
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 5
    return settings


def login(api: APIClient, email: str, password: str, ip: str = "192.0.2.10") -> Any:
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_account_lockout_blocks_even_the_right_password(api: APIClient, thresholds: Any) -> None:
    tenant, owner, _ = make_tenant()
    codes = [login(api, owner.email, "wrong", ip=f"192.0.2.{i}").json()["error"] for i in range(1, 4)]
    assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "LOCKED_OUT"]
    locked = login(api, owner.email, PASSWORD, ip="198.51.100.50")  # another address, right password
    assert locked.status_code == 429
    assert locked.json()["error"] == "LOCKED_OUT"
    assert int(locked["Retry-After"]) > 0
    assert "sessionid" not in locked.cookies
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1
    # Another account is unaffected.
    other = UserFactory()
    assert login(api, other.email, PASSWORD, ip="198.51.100.51").status_code == 200


def test_client_lockout_spans_accounts(api: APIClient, thresholds: Any) -> None:
    victims = [UserFactory() for _ in range(5)]
    statuses = [login(api, v.email, "wrong", ip="203.0.113.7").status_code for v in victims]
    assert statuses[-1] == 429
    fresh = UserFactory()
    r = login(api, fresh.email, PASSWORD, ip="203.0.113.7")
    assert (r.status_code, r.json()["error"]) == (429, "LOCKED_OUT")
    assert login(api, fresh.email, PASSWORD, ip="203.0.113.8").status_code == 200


def test_wrong_otp_codes_lock_the_account(api: APIClient, thresholds: Any, clock: Clock) -> None:
    user = UserFactory()
    device, _ = enrol(user, clock.now)
    errors = []
    for _ in range(3):
        # Past django-otp's throttle after the last wrong code: each code is really checked
        # (a throttled attempt checks none and is not counted, test_two_factor_throttle).
        clock.advance(30)
        first = login(api, user.email, PASSWORD)
        assert first.json()["requires2FA"] is True
        r = api.post(
            "/api/v1/auth/verify-2fa",
            {"token": first.json()["token"], "code": "000000"},
            format="json",
            REMOTE_ADDR="192.0.2.10",
        )
        errors.append(r.json()["error"])
    assert errors[:2] == ["INVALID_OTP", "INVALID_OTP"]
    assert errors[2] == "LOCKED_OUT"
    r = login(api, user.email, PASSWORD)
    assert (r.status_code, r.json()["error"]) == (429, "LOCKED_OUT")
    assert totp_code(device)  # the device itself is untouched


def test_token_exchange_is_locked_out_too(api: APIClient, thresholds: Any) -> None:
    tenant, owner, _ = make_tenant()
    body = {"email": owner.email, "password": "wrong"}
    codes = [api.post("/api/v1/auth/token", body, format="json").json()["error"] for _ in range(3)]
    assert codes[-1] == "LOCKED_OUT"
    r = api.post("/api/v1/auth/token", {"email": owner.email, "password": PASSWORD}, format="json")
    assert (r.status_code, r.json()["error"]) == (429, "LOCKED_OUT")
