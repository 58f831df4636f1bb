"""Review s38: the authenticator's "Verify" pressed twice (a double click, Enter then a click) or
the recovery-codes page reloaded ("resend the form"): the second POST found no enrolment waiting
and started a new one, so the browser showed a fresh QR code and secret instead of the recovery
codes of the first POST (shown once), and the person, told nothing, would think enrolment had
failed and scan a code that is never confirmed. Such a POST now goes to the 2FA status page,
which says 2FA is on and that lost recovery codes can be generated again; nothing new starts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import setup_form, totp_code
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


def test_verify_posted_twice_shows_the_status_not_a_new_enrolment(client: Client, clock: Any) -> None:
    _, user, _ = make_tenant()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200
    form = setup_form(page)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = totp_code(device, clock.now)
    first = client.post("/accounts/2fa/", {**form, "code": code})
    assert first.status_code == 200 and "recovery" in first.content.decode().lower()

    again = client.post("/accounts/2fa/", {**form, "code": code}, follow=True)
    html = again.content.decode()
    assert again.redirect_chain and again.redirect_chain[-1][0] == "/accounts/2fa/"
    assert "<svg" not in html  # no new QR code
    assert "already on" in " ".join(str(m) for m in again.context["messages"])
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
