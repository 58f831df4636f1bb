"""Sign-in fails closed on the ``cache`` limiter backend too (found by review): over a
fail-soft ``tater.cache.RedisCache`` (the shipped default for the app's cache) a lock read
during an outage was a silent miss, "not locked", so a right password signed in while a
wrong one answered 503. The limiter now uses the cache's ``strict`` view: an outage is an
outage (503 for both, nothing verified)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tater import redis_client
from tests.factories import PASSWORD, UserFactory
from tests.redis_servers import free_port

pytestmark = pytest.mark.django_db


def test_sign_in_fails_closed_when_the_limiter_cache_is_down(settings: Any) -> None:
    user = UserFactory()
    caches_conf = {
        "default": settings.CACHES["default"],
        "limits": {"BACKEND": "tater.cache.RedisCache", "OPTIONS": {"fail_soft": True}},
    }
    redis_client.reset_client()
    try:
        with override_settings(
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
            CACHES=caches_conf,
            TATER_RATELIMIT_BACKEND="cache",
            TATER_RATELIMIT_CACHE="limits",
        ):
            api = APIClient()
            api.raise_request_exception = False
            wrong = api.post("/api/v1/auth/login", {"email": user.email, "password": "not-it-at-all"}, format="json")
            right = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    finally:
        redis_client.reset_client()
    assert (wrong.status_code, right.status_code) == (503, 503), (wrong.content, right.content)
