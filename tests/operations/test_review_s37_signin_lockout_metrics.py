"""Lockouts and rate-limit refusals of the sign-in pages are counted as what they are (SPEC
§6, §12): ``/metrics`` reports "rate-limit refusals, lockouts", and a client address locked
out of the sign-in form is a lockout (SPEC §6: bad passwords lead to the same timed
lockout as bad keys, 429 ``LOCKED_OUT`` with ``Retry-After`` on the API). An operator who
alerts on ``tater_rate_limit_refusals_total{code="LOCKED_OUT"}`` must see a password
guesser on the web form, not only one on the JSON endpoint; the form's per-address rate
limit is a ``RATE_LIMITED`` refusal. Neither is an API-key authentication outcome."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from tests.factories import UserFactory
from tests.operations.test_metrics import Delta

LOGIN = "/accounts/login/"


@pytest.mark.django_db
@override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3, TATER_LOCKOUT_ACCOUNT_FAILURES=100)
def test_signin_form_lockout_is_counted_as_a_lockout() -> None:
    user = UserFactory(email="guessed@example.com")
    delta = Delta()
    web = Client(REMOTE_ADDR="198.51.100.40")
    statuses = [web.post(LOGIN, {"login": user.email, "password": f"wrong-{i}"}).status_code for i in range(5)]
    assert statuses == [200, 200, 429, 429, 429]
    assert delta("tater_rate_limit_refusals_total", code="LOCKED_OUT", route=LOGIN) == 3
    assert delta("tater_rate_limit_refusals_total", code="UNKNOWN", route=LOGIN) == 0
    # A password guesser is no API-key authentication.
    assert delta("tater_key_auth_total", outcome="LOCKED_OUT") == 0


@pytest.mark.django_db
@override_settings(TATER_AUTH_FORM_RATE="2/m", TATER_LOCKOUT_CLIENT_FAILURES=100)
def test_signin_form_rate_limit_is_counted_as_rate_limited(keyworld: dict[str, Any]) -> None:
    delta = Delta()
    web = Client(REMOTE_ADDR="198.51.100.41")
    statuses = [web.post(LOGIN, {"login": "nobody@example.com", "password": "x"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert delta("tater_rate_limit_refusals_total", code="RATE_LIMITED", route=LOGIN) == 1
    assert delta("tater_rate_limit_refusals_total", code="UNKNOWN", route=LOGIN) == 0


@pytest.mark.django_db
@override_settings(TATER_AUTH_FORM_RATE="1/m", TATER_LOCKOUT_CLIENT_FAILURES=100)
def test_passkey_ceremony_rate_limit_is_counted_as_rate_limited() -> None:
    route = "/accounts/2fa/challenge/passkey/begin/"
    delta = Delta()
    web = Client(REMOTE_ADDR="198.51.100.42")
    statuses = [web.post(route).status_code for _ in range(2)]
    assert statuses[1] == 429
    assert delta("tater_rate_limit_refusals_total", code="RATE_LIMITED", route=route) == 1
