"""SPEC §7: a sign-out is recorded in the same transaction as what it changes. Signing out
forgets the session's row, the one "sign out everywhere" and an operator find it by: when
the ``user.logout`` entry cannot be written the sign-out fails (500) and the browser is
still signed in, so that row must still be there, or the session outlives every later
"sign out everywhere"."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from accounts.models import UserSession
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _audit_down():
    return mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down"))


def _is_signed_in(client: Client) -> bool:
    return client.get("/accounts/security/").status_code == 200


@pytest.mark.parametrize(
    "path, post",
    [
        ("/accounts/logout/", lambda c, p: c.post(p)),
        ("/api/v1/auth/logout", lambda c, p: c.post(p, content_type="application/json")),
        ("/api/auth/logout", lambda c, p: c.post(p, content_type="application/json")),  # TigerTrust's
    ],
)
def test_a_sign_out_whose_entry_fails_leaves_the_session_reachable(path, post) -> None:
    user = UserFactory()
    laptop = _signed_in(user)
    with _audit_down():
        assert post(laptop, path).status_code == 500
    assert _is_signed_in(laptop)
    assert UserSession.objects.filter(user=user).count() == 1

    # The person signs out everywhere from another device: the laptop is signed out too.
    phone = _signed_in(user)
    assert phone.post("/accounts/security/sign-out-everywhere/").status_code == 302
    assert not _is_signed_in(laptop)
