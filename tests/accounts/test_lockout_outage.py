"""Sign-in during a Redis outage (SPEC §6: "the lockout stops guessing").

While the lockout cannot be read or counted, no sign-in may verify a password or a code:
if a wrong one answered 503 (its failure uncountable) and a right one signed in, anyone
could guess without limit during an outage, 503 meaning "wrong", and a locked account's
lock would be ignored. Each sign-in surface answers 503 whatever was sent (the form rate
limits and the lockout both need the store, and both fail closed), so nothing is learned.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tater import redis_client
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory
from tests.redis_servers import free_port

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_down() -> Any:
    """Redis unreachable; limits fail open as by default (the lockout must not)."""
    redis_client.reset_client()
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        yield
    redis_client.reset_client()


def login(api: APIClient, email: str, password: str) -> Any:
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def test_json_sign_in_tells_nothing_while_the_lockout_cannot_be_checked(redis_down: Any) -> None:
    user = UserFactory()
    api = APIClient()
    api.raise_request_exception = False
    wrong = login(api, user.email, "not-the-password")
    right = login(api, user.email, PASSWORD)
    assert (wrong.status_code, right.status_code) == (503, 503), (wrong.content, right.content)
    assert wrong.json()["error"] == right.json()["error"]
    assert "sessionid" not in right.cookies


def test_credential_exchange_tells_nothing_either(redis_down: Any) -> None:
    user = UserFactory()
    api = APIClient()
    api.raise_request_exception = False
    answers = [
        api.post("/api/v1/auth/token", {"email": user.email, "password": p}, format="json").status_code
        for p in ("not-the-password", PASSWORD)
    ]
    assert answers == [503, 503]


def test_ui_sign_in_tells_nothing_either(redis_down: Any) -> None:
    user = UserFactory()
    api = APIClient()
    api.raise_request_exception = False
    answers = [
        api.post("/accounts/login/", {"login": user.email, "password": p}, REMOTE_ADDR="192.0.2.7")
        for p in ("not-the-password", PASSWORD)
    ]
    assert [a.status_code for a in answers] == [503, 503], [a.content[:300] for a in answers]
    assert "_auth_user_id" not in api.session


def test_a_second_factor_is_not_checked_either(db: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user)
    api = APIClient()
    api.raise_request_exception = False
    first = login(api, user.email, PASSWORD)  # the password step, before the outage
    token = first.json()["token"]
    redis_client.reset_client()
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        answers = [
            api.post("/api/v1/auth/verify-2fa", {"token": token, "code": code}, format="json")
            for code in ("000000", totp_code(device))
        ]
    redis_client.reset_client()
    assert [a.status_code for a in answers] == [503, 503], [a.content[:300] for a in answers]
