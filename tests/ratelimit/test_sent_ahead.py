"""Redis: a warm key request's round trip is sent by the middleware, before the rest of
the request runs (apikeys.middleware), and used by authentication. Sent for a request
that then never authenticates with the key, it is given back: quota and usage count only
what authentication admitted."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey
from tater import ratelimit
from tests.factories import make_key

VALIDATE = "/api/v1/auth/validate"

pytestmark = [pytest.mark.realservices, pytest.mark.django_db]


def remaining(response: Any) -> int:
    return int(response["X-RateLimit-Remaining"])


def usage_count(key: ApiKey) -> int:
    hour = int(ratelimit.now() // ratelimit.HOUR)
    name = ratelimit.usage_keys(key.pk, hour)[0]
    return ratelimit.read_counters([name]).get(name, 0)


@pytest.fixture
def limited(world: dict[str, Any]) -> tuple[ApiKey, str]:
    return make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="5/min")


def test_warm_request_uses_the_call_sent_ahead(api, limited, monkeypatch):
    key, raw = limited
    assert remaining(api.get(VALIDATE, HTTP_X_API_KEY=raw)) == 4  # cold: loads, counts itself
    used: list[str] = []
    receive, key_hit = ratelimit.KeyHitAhead.receive, ratelimit.key_hit
    monkeypatch.setattr(ratelimit.KeyHitAhead, "receive", lambda self: used.append("ahead") or receive(self))
    monkeypatch.setattr(ratelimit, "key_hit", lambda *a: used.append("own") or key_hit(*a))
    assert [remaining(api.get(VALIDATE, HTTP_X_API_KEY=raw)) for _ in range(3)] == [3, 2, 1]
    assert used == ["ahead"] * 3
    assert usage_count(key) == 4


def test_requests_that_never_authenticate_the_key_consume_nothing(api, limited):
    key, raw = limited
    assert remaining(api.get(VALIDATE, HTTP_X_API_KEY=raw)) == 4
    # Sent ahead for each of these, then given back: an open endpoint takes no key, an
    # unknown /api/ URL is answered before any view.
    for _ in range(3):
        assert api.get("/api/v1/health", HTTP_X_API_KEY=raw).status_code == 200
        assert api.get("/api/v1/no-such-thing", HTTP_X_API_KEY=raw).status_code == 404
    assert usage_count(key) == 1
    assert [remaining(api.get(VALIDATE, HTTP_X_API_KEY=raw)) for _ in range(4)] == [3, 2, 1, 0]
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (429, "RATE_LIMITED")


def test_a_key_changed_in_between_is_decided_on_its_current_state(api, limited):
    key, raw = limited
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    # Revoked by another process: this one's memo still admits the key, so the middleware
    # sends the call ahead; the generation in Redis says otherwise: nothing is counted and
    # authentication reloads the key.
    from apikeys import principal

    memo = dict(principal._memo)
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=key.created_at)
    principal.forget_digests([key.digest])
    principal._memo.update(memo)
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")
    assert usage_count(key) == 1


@pytest.mark.parametrize("fail_open", [True, False])
def test_redis_lost_after_sending_ahead_follows_the_outage_policy(api, limited, monkeypatch, settings, fail_open):
    from django.test import Client

    key, raw = limited
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    settings.TATER_RATELIMIT_FAIL_OPEN = fail_open

    def lost(sock: Any) -> bytes:
        raise ConnectionResetError("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(ratelimit, "_read_reply", lost)
        r = Client(raise_request_exception=False).get(VALIDATE, HTTP_X_API_KEY=raw)
    # The key is verified on the database (fail-soft cache); the limiter fails open or closed.
    if fail_open:
        assert r.status_code == 200 and r.json()["id"] == key.public_id
    else:
        assert (r.status_code, r.json()["error"]) == (503, "SERVICE_UNAVAILABLE")
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200  # a fresh connection
