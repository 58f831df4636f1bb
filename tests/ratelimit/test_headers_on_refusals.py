"""SPEC §6: the rate-limit headers are on every API response, an identified caller's
including refusals that happen before the limiter (and those consume no quota)."""

from __future__ import annotations

import pytest

from tests.factories import make_key

H = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.mark.django_db
def test_permission_denied_carries_headers_and_consumes_nothing(api, world):
    _, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*:read"], rate_limit="5/min"
    )
    first = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
    assert first["X-RateLimit-Remaining"] == "4"
    denied = api.post("/api/v1/keys/", {"name": "x"}, format="json", HTTP_X_API_KEY=raw)
    assert denied.status_code == 403
    assert all(h in denied for h in H)
    assert denied["X-RateLimit-Limit"] == "5" and denied["X-RateLimit-Remaining"] == "4"
    after = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
    assert after["X-RateLimit-Remaining"] == "3"


@pytest.mark.django_db
def test_session_refusal_carries_headers(api, world):
    api.force_login(world["viewer"])
    r = api.post("/api/v1/keys/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN="x")
    assert r.status_code == 403
    ok = api.get("/api/v1/keys/", {"organizationId": world["org1"].public_id})
    assert ok.status_code == 200 and all(h in ok for h in H)
    denied = api.get("/api/v1/audit-log/", {"organizationId": world["org1"].public_id})
    assert denied.status_code == 403 and denied.json()["error"] == "PERMISSION_DENIED"
    assert all(h in denied for h in H)
    assert int(denied["X-RateLimit-Remaining"]) == int(ok["X-RateLimit-Remaining"])


@pytest.mark.django_db
def test_anonymous_failures_report_the_address_budget(api):
    # No caller to report: the address's failed-authentication budget (test_anonymous_headers).
    r = api.get("/api/v1/auth/validate", HTTP_X_API_KEY="tater_" + "0" * 32)
    assert r.status_code == 401 and all(h in r for h in H)
