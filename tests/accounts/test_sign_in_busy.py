"""One credential check at a time per account (tater.lockout.check_account's attempt slot):
what a person sees when a second sign-in arrives while one is being checked, and that the
slot is given back when the request that took it ends."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tater import context, lockout
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


class HeldElsewhere:
    """Another request, still checking ``email``'s credential (its slot taken, not yet ended)."""

    def __init__(self, email: str) -> None:
        self.ctx = context.RequestContext(channel="ui")
        with context.use(self.ctx):
            lockout.check_account(email)

    def end(self) -> None:
        context.finish(self.ctx)


def test_a_second_sign_in_while_one_is_checked_is_told_so_and_works_once_it_ends() -> None:
    user = UserFactory()
    elsewhere = HeldElsewhere(user.email)
    page = Client().post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert page.status_code == 429 and page["Retry-After"] == "1"
    text = page.content.decode()
    assert "being checked at the same moment" in text and "locked after repeated failed attempts" not in text
    api = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert (api.status_code, api.json()["error"], api["Retry-After"]) == (429, "LOCKED_OUT", "1")
    assert "being checked" in api.json()["message"]

    elsewhere.end()
    assert Client().post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302


def test_every_sign_in_request_gives_its_slot_back(client: Any) -> None:
    """Sequential sign-ins (wrong, right, the API's, a sign-out between) never meet a taken slot."""
    user = UserFactory()
    for _ in range(3):
        assert client.post("/accounts/login/", {"login": user.email, "password": "wrong"}).status_code == 200
        assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
        client.post("/accounts/logout/")
        r = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
        assert r.status_code == 200, r.json()
