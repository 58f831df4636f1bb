"""Rotating a key does not give it a fresh quota (SPEC §6: limits are per key, not per
secret). Found by review: counts were kept under the current secret's digest, so each
rotation started empty windows. Runs on the suite's backend (in-process, or Redis in the
PostgreSQL + Redis half)."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import services as key_services
from tests.factories import make_key, make_tenant

VALIDATE = "/api/v1/auth/validate"

pytestmark = pytest.mark.django_db


def statuses(api: Any, raw: str, n: int) -> list[int]:
    return [api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(n)]


def test_rotation_keeps_the_rolling_minute(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="3/min")
    assert statuses(api, raw, 4) == [200, 200, 200, 429]
    issued = key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=3600)
    # Neither the new secret nor the old one (in its grace period) gets a fourth request.
    assert statuses(api, issued.key, 2) == [429, 429]
    assert statuses(api, raw, 2) == [429, 429]


def test_rotation_keeps_the_hour(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="4/hour")
    assert statuses(api, raw, 2) == [200, 200]
    issued = key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=0)
    assert statuses(api, issued.key, 3) == [200, 200, 429]
    response = api.get(VALIDATE, HTTP_X_API_KEY=issued.key)
    assert response.status_code == 429 and response["X-RateLimit-Limit"] == "4"


def test_rotating_again_and_again_gains_nothing(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="5/min")
    admitted = statuses(api, raw, 2).count(200)
    for _ in range(4):
        raw = key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=0).key
        admitted += statuses(api, raw, 2).count(200)
    assert admitted == 5


def test_rotation_keeps_a_window_shorter_than_a_minute(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="10/10s")
    assert statuses(api, raw, 8).count(200) == 8
    issued = key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=0)
    assert statuses(api, issued.key, 3) == [200, 200, 429]


@pytest.mark.realservices
def test_rotation_leaves_the_whole_rule_set_remembered_on_redis(api: Any) -> None:
    """A cold request of the new secret counts in one round trip under the rules the store
    remembers: the carried charges must not leave it a single rule."""
    from apikeys.limits import entity_key, rules_for
    from tater import limiter

    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org)
    assert statuses(api, raw, 2) == [200, 200]
    key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=0)
    key.refresh_from_db()
    decision = limiter.get_limiter().check(limiter.Entity(entity_key(key.digest), ()))  # counted as remembered
    assert decision.known and tuple(s.rule for s in decision.states) == rules_for(tenant.plan)
