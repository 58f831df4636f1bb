"""Right after a wrong code, django-otp throttles the device (1, 2, 4, ... seconds): the
next code is refused unchecked. The person is told to wait N seconds, not that the code is
wrong or that their phone's clock is off: on TOTP enrolment, at the sign-in challenge, at
the step-up check and in the JSON sign-in's second step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import services
from audit.models import AuditEvent
from tests.accounts.conftest import Clock, enrol, setup_form, totp_code
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many attempts: wait 1 second and try the code again"


@pytest.fixture
def otp_clock(clock: Clock) -> Iterator[Clock]:
    """The shared clock, also as the "now" the wait is computed from."""
    with mock.patch("accounts.services.timezone.now", side_effect=lambda: datetime.fromtimestamp(clock.now, tz=UTC)):
        yield clock


def _sign_in(client: Client, user: Any) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/challenge/"


def _wrong_code(device: TOTPDevice, at: float) -> str:
    right = totp_code(device, at)
    return "000000" if right != "000000" else "111111"


def test_enrolment_wrong_then_right_code_says_wait(otp_clock: Clock) -> None:
    _, user, _ = make_tenant()
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    form = setup_form(client.get("/accounts/2fa/"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post("/accounts/2fa/", {**form, "code": _wrong_code(device, otp_clock.now)}).content.decode()
    assert "check the time on your phone" in wrong
    throttled = client.post("/accounts/2fa/", {**form, "code": totp_code(device, otp_clock.now)}).content.decode()
    assert TOO_MANY in throttled and "check the time on your phone" not in throttled
    otp_clock.advance(1.5)
    done = client.post("/accounts/2fa/", {**form, "code": totp_code(device, otp_clock.now)})
    assert "recovery codes" in done.content.decode().lower()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_service_reports_the_wait_of_a_longer_throttle(otp_clock: Clock) -> None:
    user = UserFactory()
    device = services.totp_enrolment_start(user=user)
    shown = services.totp_enrolment_shown(device)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=4, throttling_failure_timestamp=datetime.fromtimestamp(otp_clock.now, tz=UTC)
    )
    with pytest.raises(services.OTPThrottled) as refused:
        services.totp_enrolment_confirm(user=user, code=totp_code(device, otp_clock.now), shown=shown)
    assert refused.value.wait_seconds == 8 and "wait 8 seconds" in refused.value.message
    otp_clock.advance(3)
    with pytest.raises(services.OTPThrottled) as again:
        services.totp_enrolment_confirm(user=user, code=totp_code(device, otp_clock.now), shown=shown)
    assert again.value.wait_seconds == 5


def test_sign_in_challenge_wrong_then_right_code(otp_clock: Clock) -> None:
    user = UserFactory()
    device, _ = enrol(user, otp_clock.now)
    otp_clock.advance(30)
    client = Client()
    _sign_in(client, user)
    wrong = client.post("/accounts/2fa/challenge/", {"code": _wrong_code(device, otp_clock.now)})
    assert "not valid or was already used" in wrong.content.decode()
    throttled = client.post("/accounts/2fa/challenge/", {"code": totp_code(device, otp_clock.now)})
    body = throttled.content.decode()
    assert throttled.status_code == 200 and TOO_MANY in body and "not valid or was already used" not in body
    # Only the wrong code counts as a failed sign-in; the throttled attempt checked nothing.
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="otp").count() == 1
    otp_clock.advance(1.5)
    done = client.post("/accounts/2fa/challenge/", {"code": totp_code(device, otp_clock.now)})
    assert done.status_code == 302
    assert client.get("/api/v1/me").json()["two_factor"]["verified"] is True


def test_recovery_codes_are_throttled_with_the_same_message(otp_clock: Clock) -> None:
    user = UserFactory()
    _, codes = enrol(user, otp_clock.now)
    client = Client()
    _sign_in(client, user)
    client.post("/accounts/2fa/challenge/", {"code": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"})
    throttled = client.post("/accounts/2fa/challenge/", {"code": codes[0]})
    assert TOO_MANY in throttled.content.decode()
    otp_clock.advance(1.5)
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302


def test_json_second_step_says_wait(otp_clock: Clock) -> None:
    user = UserFactory()
    device, _ = enrol(user, otp_clock.now)
    otp_clock.advance(30)
    api = APIClient()
    token = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    wrong = api.post(
        "/api/v1/auth/verify-2fa", {"token": token, "code": _wrong_code(device, otp_clock.now)}, format="json"
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_OTP"
    throttled = api.post(
        "/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, otp_clock.now)}, format="json"
    )
    assert throttled.status_code == 401 and throttled.json()["message"] == TOO_MANY, throttled.json()
    assert throttled["Retry-After"] == "1"  # an SDK waits without parsing the message
    otp_clock.advance(1.5)
    ok = api.post("/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, otp_clock.now)}, format="json")
    assert ok.status_code == 200, ok.json()


def test_json_throttled_attempts_do_not_feed_the_lockout(otp_clock: Clock, settings: Any) -> None:
    """A throttled attempt checked no code: unlike a wrong code it is neither audited as a
    failed sign-in nor counted by tater.lockout, so waiting out the throttle never locks
    the account."""
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 2
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 1000
    user = UserFactory()
    device, _ = enrol(user, otp_clock.now)
    otp_clock.advance(30)
    api = APIClient()
    token = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    wrong = api.post(
        "/api/v1/auth/verify-2fa", {"token": token, "code": _wrong_code(device, otp_clock.now)}, format="json"
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_OTP"  # one failure of two
    for _ in range(3):
        throttled = api.post(
            "/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, otp_clock.now)}, format="json"
        )
        assert throttled.status_code == 401, throttled.json()
        assert throttled.json()["error"] == "INVALID_OTP" and throttled.json()["message"] == TOO_MANY
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="otp").count() == 1
    otp_clock.advance(1.5)
    ok = api.post("/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, otp_clock.now)}, format="json")
    assert ok.status_code == 200, ok.json()


@pytest.mark.parametrize(("path", "email_field"), [("/api/v1/auth/token", "email"), ("/auth/token", "username")])
def test_one_step_token_exchange_says_wait_with_retry_after(otp_clock: Clock, path: str, email_field: str) -> None:
    _, user, _ = make_tenant()
    device, _ = enrol(user, otp_clock.now)
    otp_clock.advance(30)
    api = APIClient()

    def exchange(code: str) -> Any:
        return api.post(path, {email_field: user.email, "password": PASSWORD, "code": code}, format="json")

    assert exchange(_wrong_code(device, otp_clock.now)).status_code == 401
    throttled = exchange(totp_code(device, otp_clock.now))
    assert throttled.status_code == 401 and throttled["Retry-After"] == "1"
    assert TOO_MANY in throttled.content.decode()
    otp_clock.advance(1.5)
    assert exchange(totp_code(device, otp_clock.now)).status_code in (200, 201)
