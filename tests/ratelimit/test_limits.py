"""API rate limits through the HTTP stack: headers, 429, overrides, plans, sessions."""

from __future__ import annotations

import pytest
from django.test import override_settings

from orgs import services as org_services
from tests.factories import make_key, make_tenant
from tests.ratelimit.conftest import T0

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"
MINUTE_END = int(T0) + 60
HOUR_END = int(T0) - 20 * 60 + 3600


def rl(resp):
    return int(resp["X-RateLimit-Limit"]), int(resp["X-RateLimit-Remaining"]), int(resp["X-RateLimit-Reset"])


@pytest.mark.django_db
class TestHeaders:
    def test_values_across_a_window(self, api, world, clock):
        key = world["owner_raw"]
        seen = [rl(api.get(VALIDATE, HTTP_X_API_KEY=key)) for _ in range(3)]
        # Free plan: 60/min and 1,000/hour; the minute window is the tightest.
        assert seen == [(60, 59, MINUTE_END), (60, 58, MINUTE_END), (60, 57, MINUTE_END)]
        clock.advance(59.9)
        # Rolling minute (SPEC §6): Reset is when the whole minute quota is free again,
        # 60 s after the newest admission.
        assert rl(api.get(VALIDATE, HTTP_X_API_KEY=key)) == (60, 56, MINUTE_END + 60)
        clock.advance(0.1)  # the first three are 60 s old: out of the window; the fourth is not
        assert rl(api.get(VALIDATE, HTTP_X_API_KEY=key)) == (60, 58, MINUTE_END + 60)

    def test_tightest_window_is_reported(self, api, world, clock):
        with override_settings(TATER_PLAN_RATE_LIMITS={"free": (60, 3)}):
            r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert rl(r) == (3, 2, HOUR_END)

    def test_headers_on_errors_after_the_limiter(self, api, world, clock):
        # A 404 from a view is still a rate-accounted response.
        r = api.get(f"{KEYS}key-00000000-0000-0000-0000-000000000000/", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 404
        assert rl(r) == (60, 59, MINUTE_END)

    def test_without_a_caller_the_address_budget(self, api, db, clock):
        r = api.get(VALIDATE)
        assert r.status_code == 401
        assert rl(r)[:2] == (19, 19)  # 20 failures lock: 19 answered (tests/ratelimit/test_anonymous_headers.py)


@pytest.mark.django_db
class TestRateLimited:
    def test_override_5_per_minute(self, api, world, clock):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="5/min")
        statuses = [api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        # Another key of the same tenant has its own budget.
        assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200

    def test_429_body_and_retry_after(self, api, world, clock):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="5/60s")
        for _ in range(5):
            api.get(VALIDATE, HTTP_X_API_KEY=raw)
        clock.advance(10)
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert r.status_code == 429
        body = r.json()
        assert body["error"] == "RATE_LIMITED"
        assert body["message"] == "Rate limit exceeded, retry in 50 seconds"
        assert body["details"] == {"limit": 5, "window_seconds": 60, "reset": MINUTE_END}
        assert body["request_id"] == r["X-Request-ID"]
        assert r["Retry-After"] == "50"
        assert rl(r) == (5, 0, MINUTE_END)

    def test_refused_requests_consume_nothing(self, api, world, clock):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="2/min")
        for _ in range(10):
            api.get(VALIDATE, HTTP_X_API_KEY=raw)
        clock.advance(60)
        statuses = [api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]

    def test_hour_window_retry_after(self, api, world, clock):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="2/hour")
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert r.status_code == 429
        assert int(r["Retry-After"]) == HOUR_END - int(T0)
        assert rl(r) == (2, 0, HOUR_END)

    def test_override_cannot_loosen_the_plan(self, api, world, clock):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="500/min")
        with override_settings(TATER_PLAN_RATE_LIMITS={"free": (3, 1000)}):
            statuses = [api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    def test_forged_forwarding_headers_do_not_reset_a_key_limit(self, api, world, clock):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="3/min")
        statuses = [
            api.get(
                VALIDATE, HTTP_X_API_KEY=raw, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}", HTTP_X_REAL_IP=f"192.0.2.{i}"
            ).status_code
            for i in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.django_db
class TestPlans:
    LIMITS = {"free": (2, 1000), "pro": (4, 1000), "enterprise": (6, 1000)}

    def test_plan_change_takes_effect_on_the_next_request(self, api, world, clock):
        key = world["owner_raw"]
        with override_settings(TATER_PLAN_RATE_LIMITS=self.LIMITS):
            assert [api.get(VALIDATE, HTTP_X_API_KEY=key).status_code for _ in range(3)] == [200, 200, 429]
            org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], plan="pro")
            r = api.get(VALIDATE, HTTP_X_API_KEY=key)
            assert r.status_code == 200
            assert rl(r) == (4, 1, MINUTE_END)
            org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], plan="free")
            assert api.get(VALIDATE, HTTP_X_API_KEY=key).status_code == 429

    def test_plans_of_settings(self, api, db, clock):
        tenant, owner, (org,) = make_tenant(name="Big", plan="enterprise")
        _, raw = make_key(user=owner, tenant=tenant, org=org)
        assert rl(api.get(VALIDATE, HTTP_X_API_KEY=raw))[0] == 1_000
        org_services.tenant_update(tenant=tenant, actor=owner, plan="pro")
        assert rl(api.get(VALIDATE, HTTP_X_API_KEY=raw))[0] == 300


@pytest.mark.django_db
class TestSessions:
    def test_session_user_limited_by_the_tenant_plan(self, api, world, clock):
        api.force_login(world["admin"])  # reaches org1 only
        with override_settings(TATER_PLAN_RATE_LIMITS={"free": (2, 1000), "pro": (3, 1000)}):
            responses = [api.get(KEYS) for _ in range(3)]
            assert [r.status_code for r in responses] == [200, 200, 429]
            assert rl(responses[0]) == (2, 1, MINUTE_END)
            assert responses[2].json()["error"] == "RATE_LIMITED"
            org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], plan="pro")
            assert api.get(KEYS).status_code == 200

    def test_session_and_key_budgets_are_separate(self, api, world, clock):
        with override_settings(TATER_PLAN_RATE_LIMITS={"free": (1, 1000)}):
            api.force_login(world["admin"])
            assert api.get(KEYS).status_code == 200
            assert api.get(KEYS).status_code == 429
            api.logout()
            assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200
