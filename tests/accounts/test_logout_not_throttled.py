"""A session whose minute budget is spent can still sign out (found by review: giving a
session refused before its org resolved its tenant's rate-limit headers briefly made the
throttle count and refuse the views that resolve no org, sign-out among them)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_logout_is_not_refused_by_the_session_rate_limit(world: dict[str, Any], settings: Any) -> None:
    settings.TATER_PLAN_RATE_LIMITS = {**settings.TATER_PLAN_RATE_LIMITS, "free": (2, 1000)}
    api = APIClient()
    api.force_login(world["member"])
    statuses = [api.get("/api/v1/keys/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    r = api.post("/api/v1/auth/logout")
    assert r.status_code == 204, r.content
    assert "_auth_user_id" not in api.session
