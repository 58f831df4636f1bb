"""A sign-in and its ``user.login`` entry are one unit (SPEC §7: every write recorded in the
same database transaction as the change). When the entry cannot be written the sign-in
leaves nothing behind: no server-side session, no tracked session row, no new last_login."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import UserSession
from audit import chain
from audit.models import AuditEvent
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

real_link = chain.link


@pytest.fixture
def login_entry_fails() -> Iterator[None]:
    def link(event: Any) -> Any:
        if event.action == "user.login":
            raise RuntimeError("audit store down")
        return real_link(event)

    with mock.patch("audit.chain.link", side_effect=link):
        yield


def _nothing_left(user: Any) -> None:
    user.refresh_from_db()
    assert user.last_login is None
    assert not UserSession.objects.filter(user=user).exists()
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    assert not AuditEvent.objects.filter(action="user.login").exists()


def test_password_sign_in_without_its_entry_leaves_nothing(login_entry_fails: None) -> None:
    user = UserFactory()
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 500
    _nothing_left(user)


def test_json_sign_in_without_its_entry_leaves_nothing(login_entry_fails: None) -> None:
    user = UserFactory()
    api = APIClient(raise_request_exception=False)
    response = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 500
    _nothing_left(user)


def test_second_factor_sign_in_without_its_entry_leaves_nothing(clock: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user, clock.now)
    clock.advance(30)
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    with mock.patch("audit.chain.link", side_effect=lambda e: _fail_login(e)):
        response = client.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    assert response.status_code == 500
    _nothing_left(user)


def test_json_second_step_without_its_entry_leaves_nothing(clock: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user, clock.now)
    clock.advance(30)
    api = APIClient(raise_request_exception=False)
    token = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    with mock.patch("audit.chain.link", side_effect=lambda e: _fail_login(e)):
        response = api.post(
            "/api/v1/auth/verify-2fa", {"token": token, "code": totp_code(device, clock.now)}, format="json"
        )
    assert response.status_code == 500
    _nothing_left(user)


def _fail_login(event: Any) -> Any:
    if event.action == "user.login":
        raise RuntimeError("audit store down")
    return real_link(event)


def test_a_sign_in_that_succeeds_is_recorded_with_its_session() -> None:
    user = UserFactory()
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    assert UserSession.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action="user.login", target_id=str(user.public_id)).count() == 1
