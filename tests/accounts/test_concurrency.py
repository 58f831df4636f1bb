"""Replay protection under concurrency, on PostgreSQL: one TOTP code, one recovery code and
one 2FA sign-in token each admit exactly one of many simultaneous requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts import services
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]
THREADS = 8


def race(fn: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            outcome = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we count
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_same_totp_code_accepted_once_under_concurrency() -> None:
    assert connection.vendor == "postgresql"
    user = UserFactory()
    device, _ = enrol(user)
    # Forget the enrolment code's time step, so the current code is unused again.
    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    code = totp_code(device)
    results = race(lambda: services.verify_second_factor(user=user, code=code))
    assert sum(1 for r in results if r is not None and not isinstance(r, Exception)) == 1, results


def test_same_recovery_code_accepted_once_under_concurrency() -> None:
    user = UserFactory()
    _, codes = enrol(user)
    results = race(lambda: services.verify_second_factor(user=user, code=codes[0]))
    assert sum(1 for r in results if r is not None and not isinstance(r, Exception)) == 1, results


def test_same_2fa_token_signs_in_once_under_concurrency() -> None:
    user = UserFactory()
    _, codes = enrol(user)
    token = (
        APIClient()
        .post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
        .json()["token"]
    )
    # Different recovery codes per request: only the single-use token can stop the others.
    pool = iter(codes)
    pool_lock = threading.Lock()

    def attempt() -> int:
        with pool_lock:
            code = next(pool)
        return APIClient().post("/api/v1/auth/verify-2fa", {"token": token, "code": code}, format="json").status_code

    results = race(attempt)
    assert results.count(200) == 1, results
