"""An operator ending a person's session also ends their sign-ins waiting for a second step
(SPEC §8, §10).

An operator answering an incident (a stolen laptop) deletes the person's signed-in session in
the admin. Whoever holds the password may at that moment be half-way through a sign-in, waiting
for a code (a ``requires2FA`` token). "Sign out everywhere", a reset and a changed factor end
such sign-ins; the operator's sign-out used to leave it working, so the thief finished it with
the next code they got hold of."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import UserSession
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def _verified_browser(user: Any, code: str) -> Client:
    browser = Client()
    assert browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    assert browser.post("/accounts/2fa/challenge/", {"code": code}).status_code == 302
    assert browser.get("/api/v1/me").status_code == 200
    return browser


def _pending_sign_in(user: Any) -> tuple[Client, str]:
    thief = Client()
    started = thief.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )
    assert started.status_code == 200 and started.json()["requires2FA"] is True
    return thief, str(started.json()["token"])


@pytest.mark.parametrize("how", ["one", "selected"])
def test_a_pending_sign_in_does_not_complete_after_an_operator_ends_a_session(clock: Any, how: str) -> None:
    admin = superuser_in_admin()
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    _verified_browser(victim, codes[0])
    thief, token = _pending_sign_in(victim)
    tracked = UserSession.objects.get(user=victim)
    if how == "one":
        r = admin.post(f"/admin/accounts/usersession/{tracked.pk}/delete/", {"post": "yes"})
    else:
        r = admin.post(
            "/admin/accounts/usersession/",
            {"action": "delete_selected", "_selected_action": [str(tracked.pk)], "post": "yes"},
        )
    assert r.status_code == 302
    clock.advance(30)
    answer = thief.post(
        "/api/v1/auth/verify-2fa",
        {"token": token, "code": totp_code(device, clock.now)},
        content_type="application/json",
    )
    assert answer.status_code == 401, answer.content
    assert thief.get("/api/v1/me").status_code == 401


def test_the_person_signs_in_again_afterwards(clock: Any) -> None:
    admin = superuser_in_admin()
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    _verified_browser(victim, codes[0])
    tracked = UserSession.objects.get(user=victim)
    assert admin.post(f"/admin/accounts/usersession/{tracked.pk}/delete/", {"post": "yes"}).status_code == 302
    clock.advance(30)
    person, token = _pending_sign_in(victim)
    answer = person.post(
        "/api/v1/auth/verify-2fa",
        {"token": token, "code": totp_code(device, clock.now)},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
