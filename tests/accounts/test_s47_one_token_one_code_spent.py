"""SPEC §5 (`auth/verify-2fa`: a single-use token) and §8 (single-use recovery codes): two
answers sent at once to one sign-in token (a double click, a script retrying) must not spend
two recovery codes for one sign-in. Checked in review s47 (suspected from the code: each
answer's code is checked before the token is used up): the account's one-sign-in-at-a-time
check (docs/ratelimit.md) refuses the second answer (429) before its code is looked at, so one
signs in and one code is spent. Kept as a regression test of that."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts import services
from accounts.models import RecoveryCode
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def test_two_answers_to_one_token_spend_one_recovery_code(clock: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    user = UserFactory()
    _, codes = enrol(user, clock.now)
    login = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    token = login.json()["token"]
    answers: list[Any] = []

    def answer(code: str) -> Any:
        return lambda: answers.append(
            APIClient().post("/api/v1/auth/verify-2fa", {"token": token, "code": code}, format="json")
        )

    errors = while_held(
        soon(answer(codes[0])), soon(answer(codes[1])), pause_in=(services, "verify_second_factor"), seconds=0.7
    )

    assert errors == []
    assert sorted(a.status_code for a in answers)[0] == 200, [a.content for a in answers]
    assert RecoveryCode.objects.filter(device__user=user, used_at__isnull=False).count() == 1
