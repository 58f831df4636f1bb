"""Review s39 (see tests/ui/test_review_s39_empty_post.py): the SSO start page and the 2FA
challenge, step-up, enrolment and disable pages took a POST with no field at all for a GET and
re-rendered silently. They now show "This field is required." on the code, email or password
field, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import enrol, setup_form, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db

REQUIRED = "This field is required."


def _errors_shown(response: Any) -> None:
    html = response.content.decode()
    assert response.status_code == 200, html[:800]
    assert REQUIRED in html, html[:3000]


def test_sso_start_shows_errors_for_an_empty_post() -> None:
    _errors_shown(Client().post("/accounts/sso/start/"))


def test_two_factor_step_up_shows_errors_for_an_empty_post(clock: Any) -> None:
    _, user, _ = make_tenant()
    enrol(user, clock.now)
    client = Client()
    client.force_login(user)  # signed in, second factor not passed in this session
    _errors_shown(client.post("/accounts/2fa/verify/"))


def test_two_factor_challenge_shows_errors_for_an_empty_post(clock: Any) -> None:
    _, user, _ = make_tenant()
    enrol(user, clock.now)
    client = Client()
    signed = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert signed.status_code == 302 and "/2fa/challenge/" in signed["Location"]
    _errors_shown(client.post("/accounts/2fa/challenge/"))


def test_two_factor_setup_and_disable_show_errors_for_an_empty_post(clock: Any) -> None:
    _, user, _ = make_tenant()
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200
    _errors_shown(client.post("/accounts/2fa/"))
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/2fa/", {**setup_form(page), "code": totp_code(device, clock.now)}).status_code == 200
    _errors_shown(client.post("/accounts/2fa/disable/"))
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
