"""API-key requests on Redis send their one round trip ahead (apikeys.middleware): what a
client sees must not change. Every request is counted once, warm or cold; a request that
never reaches the key check (no such route, a refused header) counts nothing; a change to
the key is still seen on the very next request; still one round trip per warm request.
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import keycheck, usage
from apikeys.models import ApiKey
from tater import limiter
from tests.apikeys.test_keycheck import RoundTrips
from tests.factories import make_key

VALIDATE = "/api/v1/auth/validate"

pytestmark = [pytest.mark.realservices, pytest.mark.django_db]


def _remaining(response: Any) -> int:
    return int(response["X-RateLimit-Remaining"])


@pytest.fixture
def limited(world: dict[str, Any]) -> str:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="6/min")
    return raw


def test_each_request_counts_once_warm_and_cold(api, limited):
    assert [_remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) for _ in range(3)] == [5, 4, 3]
    keycheck.reset()  # a process that has not seen the key: the cold round trip is sent ahead
    usage.reset_local_memo()
    assert _remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) == 2
    assert [api.get(VALIDATE, HTTP_X_API_KEY=limited).status_code for _ in range(3)] == [200, 200, 429]


def test_requests_that_never_reach_the_key_check_count_nothing(api, limited):
    assert _remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) == 5
    for _ in range(4):
        assert api.get("/api/v1/no-such-route", HTTP_X_API_KEY=limited).status_code == 404
        # A second credential beside the key: refused before anything is counted.
        r = api.get(VALIDATE, HTTP_X_API_KEY=limited, HTTP_AUTHORIZATION="Bearer something-else")
        assert r.status_code == 401
    assert _remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) == 4


def test_the_round_trip_leaves_before_routing(api, limited, monkeypatch):
    from django.urls.resolvers import URLResolver

    assert _remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) == 5  # memoized, script loaded
    trips = RoundTrips(monkeypatch)
    at_routing: list[int] = []
    resolve = URLResolver.resolve

    def noted(self: Any, path: str) -> Any:
        at_routing.append(trips.count)
        return resolve(self, path)

    monkeypatch.setattr(URLResolver, "resolve", noted)
    assert _remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) == 4
    assert at_routing[0] == 1 and trips.count == 1  # on its way before routing; nothing more after
    missed = api.get("/api/v1/no-such-route", HTTP_X_API_KEY=limited)
    assert missed.status_code == 404
    # Sent ahead though no route reaches the key check, then given back (2); the answer no
    # view made reports the address's failure budget (SPEC §6, every API response carries
    # X-RateLimit-*; tests/ratelimit/test_review_s38_pre_view_headers.py): a peek reading
    # the lock's end with it (1 more). The key's quota is untouched.
    assert trips.count == 4 and "X-RateLimit-Limit" in missed
    assert _remaining(api.get(VALIDATE, HTTP_X_API_KEY=limited)) == 3


def test_a_revocation_elsewhere_is_seen_on_the_next_request(api, world):
    raw, key = world["owner_raw"], world["owner_key"]
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    # Another process revoked the key: row and generation changed, this process's memo did not.
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=key.created_at)
    limiter.get_limiter().write({keycheck.gen_name(key.digest): "elsewhere"}, ttl=60)
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")


def test_refused_by_permission_consumes_no_quota(api, world):
    _, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="2/min", scopes=["scans:read"]
    )
    for _ in range(3):  # needs keys:read: 403 before the throttle, the count given back
        assert api.get("/api/v1/keys/", HTTP_X_API_KEY=raw).status_code == 403
    assert [api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(3)] == [200, 200, 429]
