"""Rotating a key does not give it a fresh quota (SPEC §6: limits are per key, not per
secret). Found by review: counts were kept under the current secret's digest, so each
rotation started empty windows. Runs on the suite's backend (in-process, or Redis in the
PostgreSQL + Redis half)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from apikeys import services as key_services
from audit import registry as A
from tests.factories import make_key, make_tenant

VALIDATE = "/api/v1/auth/validate"

pytestmark = pytest.mark.django_db


def statuses(api: Any, raw: str, n: int) -> list[int]:
    return [api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(n)]


def rotate(**kwargs: Any) -> Any:
    """``apikey_rotate`` as a request makes it: committed (the count is carried on commit)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return key_services.apikey_rotate(**kwargs)


def test_rotation_keeps_the_rolling_minute(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="3/min")
    assert statuses(api, raw, 4) == [200, 200, 200, 429]
    issued = rotate(api_key=key, actor=owner, grace_period_seconds=3600)
    # Neither the new secret nor the old one (in its grace period) gets a fourth request.
    assert statuses(api, issued.key, 2) == [429, 429]
    assert statuses(api, raw, 2) == [429, 429]


def test_rotation_keeps_the_hour(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="4/hour")
    assert statuses(api, raw, 2) == [200, 200]
    issued = rotate(api_key=key, actor=owner, grace_period_seconds=0)
    assert statuses(api, issued.key, 3) == [200, 200, 429]
    response = api.get(VALIDATE, HTTP_X_API_KEY=issued.key)
    assert response.status_code == 429 and response["X-RateLimit-Limit"] == "4"


def test_rotating_again_and_again_gains_nothing(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="5/min")
    admitted = statuses(api, raw, 2).count(200)
    for _ in range(4):
        raw = rotate(api_key=key, actor=owner, grace_period_seconds=0).key
        admitted += statuses(api, raw, 2).count(200)
    assert admitted == 5


def test_rotation_keeps_a_window_shorter_than_a_minute(api: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="10/10s")
    assert statuses(api, raw, 8).count(200) == 8
    issued = rotate(api_key=key, actor=owner, grace_period_seconds=0)
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
    rotate(api_key=key, actor=owner, grace_period_seconds=0)
    key.refresh_from_db()
    decision = limiter.get_limiter().check(limiter.Entity(entity_key(key.digest), ()))  # counted as remembered
    assert decision.known and tuple(s.rule for s in decision.states) == rules_for(tenant.plan)


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["redis", "inprocess", "cache"])
def test_requests_during_the_rotation_are_not_lost(monkeypatch: Any, settings: Any, backend: str) -> None:
    """Found by review: the old secret's count was carried over before the rotation
    committed, so requests other workers admitted meanwhile (still counted under the old
    secret) were lost: 7 admitted in a minute under 5/min."""
    settings.TATER_RATELIMIT_BACKEND = backend
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, rate_limit="5/min")
    client = APIClient()
    assert statuses(client, raw, 3) == [200, 200, 200]
    during: list[int] = []
    audit_record = key_services.audit_record

    def rotated_meanwhile(**kwargs: Any) -> Any:
        if kwargs.get("action") == A.API_KEY_ROTATED:
            # Another worker serves the old secret while the rotation's transaction is open.
            def worker() -> None:
                try:
                    during.extend(statuses(APIClient(), raw, 2))
                finally:
                    connection.close()

            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        return audit_record(**kwargs)

    monkeypatch.setattr(key_services, "audit_record", rotated_meanwhile)
    issued = key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=3600)
    assert during == [200, 200]
    assert statuses(client, issued.key, 3) == [429, 429, 429]
    assert statuses(client, raw, 1) == [429]
