"""Review s48 (J): allauth's own sign-in limits (``ACCOUNT_RATE_LIMITS``: failed sign-ins,
sign-ups, resets per address) count the client address as every other limit and the
lockout do (SPEC §6 "from one client address"; README/docs/ratelimit.md "Client address":
``X-Forwarded-For`` read through ``TATER_TRUSTED_PROXY_COUNT`` trusted proxies).

Before, allauth read the address on its own (its ``ALLAUTH_TRUSTED_PROXY_COUNT``, never
set), so behind the deployment's trusted proxy every visitor was the proxy: ten strangers'
wrong passwords within a minute refused every sign-in on the form, the right password
included, for everybody."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
REFUSED = "Too many failed login attempts"


def sign_in(address: str, email: str, password: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address).post(
        "/accounts/login/", {"login": email, "password": password}
    )


@override_settings(TATER_TRUSTED_PROXY_COUNT=1)
def test_strangers_failed_sign_ins_behind_the_proxy_do_not_refuse_another_client() -> None:
    victim = UserFactory()
    for i in range(12):  # twelve clients, one wrong password each, within the minute
        failed = sign_in(f"203.0.113.{i + 1}", UserFactory().email, "not-the-password")
        assert failed.status_code == 200 and REFUSED not in failed.content.decode()
    response = sign_in("198.51.100.5", victim.email, PASSWORD)
    assert response.status_code == 302, response.content.decode()[:2000]


@override_settings(TATER_TRUSTED_PROXY_COUNT=1)
def test_one_client_behind_the_proxy_is_still_limited_by_its_own_address() -> None:
    own = UserFactory()
    answers = [sign_in("203.0.113.77", UserFactory().email, "not-the-password") for _ in range(11)]
    assert REFUSED in answers[-1].content.decode() or answers[-1].status_code == 429
    refused = sign_in("203.0.113.77", own.email, PASSWORD)  # its own account: still refused for now
    assert refused.status_code != 302
    assert sign_in("203.0.113.78", own.email, PASSWORD).status_code == 302  # the neighbour is not


def test_a_forged_forwarding_header_picks_no_fresh_address_without_a_trusted_proxy() -> None:
    own = UserFactory()
    for i in range(11):
        Client(REMOTE_ADDR="192.0.2.60", HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}").post(
            "/accounts/login/", {"login": UserFactory().email, "password": "not-the-password"}
        )
    forged = Client(REMOTE_ADDR="192.0.2.60", HTTP_X_FORWARDED_FOR="198.51.100.99").post(
        "/accounts/login/", {"login": own.email, "password": PASSWORD}
    )
    assert forged.status_code != 302
