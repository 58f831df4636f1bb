"""Issue 22 (SPEC §14): usage-limited keys, a key's last 5 client addresses, and each
secret's last use during a rotation's grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import services as key_services
from tests.factories import make_key

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"


def validate(api: Any, raw: str, ip: str = "198.51.100.7") -> Any:
    return api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=ip)


@pytest.mark.django_db
class TestUsageLimitedKeys:
    def test_uses_count_down_then_429_usage_exhausted(self, api, world):
        r = api.post(
            f"{KEYS}?organizationId={world['org1'].public_id}",
            {"name": "metered", "usage_limit": 3},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 201, r.content
        raw, key_id = r.json()["key"], r.json()["id"]
        assert r.json()["usage"] == {"limit": 3, "remaining": 3, "refill": None, "resets_at": None}
        remaining = [validate(api, raw).json()["usage"]["remaining"] for _ in range(3)]
        assert remaining == [2, 1, 0]
        r = validate(api, raw)
        assert (r.status_code, r.json()["error"]) == (429, "USAGE_EXHAUSTED")
        assert r.json()["details"]["limit"] == 3
        detail = api.get(f"{KEYS}{key_id}/", HTTP_X_API_KEY=world["owner_raw"]).json()
        assert detail["usage"]["remaining"] == 0 and detail["usage_limit"] == 3

    def test_keys_without_a_limit_say_so(self, api, world):
        assert validate(api, world["owner_raw"]).json()["usage"] is None

    def test_refused_requests_use_nothing(self, api, world):
        # 403 (missing scope) and 429 (rate limit) come before the use is taken.
        _, raw = make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            usage_limit=2,
            rate_limit="1/min",
            scopes=["scans:read"],
        )
        for _ in range(3):
            assert api.get(KEYS, HTTP_X_API_KEY=raw).status_code == 403
        assert validate(api, raw).json()["usage"]["remaining"] == 1
        r = validate(api, raw)
        assert (r.status_code, r.json()["error"]) == (429, "RATE_LIMITED")
        key = key_services.ApiKey.objects.get(usage_limit=2)
        assert api.get(f"{KEYS}{key.public_id}/", HTTP_X_API_KEY=world["owner_raw"]).json()["usage"]["remaining"] == 1

    def test_daily_refill_says_when(self, api, world):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=5, usage_refill="daily"
        )
        usage = validate(api, raw).json()["usage"]
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        assert usage["refill"] == "daily" and usage["resets_at"] == f"{tomorrow}T00:00:00Z"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"usage_limit": 0}, "usage_limit"),
            ({"usage_limit": "many"}, "usage_limit"),
            ({"usage_refill": "daily"}, "usage_refill"),
            ({"usage_limit": 5, "usage_refill": "hourly"}, "usage_refill"),
        ],
    )
    def test_bad_limits_are_400(self, api, world, body, field):
        r = api.post(
            f"{KEYS}?organizationId={world['org1'].public_id}",
            {"name": "x", **body},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 400, r.content
        assert field in str(r.json())

    def test_through_a_key_a_limit_only_tightens(self, api, world):
        key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=10)
        url = f"{KEYS}{key.public_id}/"
        assert api.patch(url, {"usage_limit": 5}, format="json", HTTP_X_API_KEY=world["owner_raw"]).status_code == 200
        for widening in ({"usage_limit": 50}, {"usage_limit": None}, {"usage_refill": "daily"}):
            r = api.patch(url, widening, format="json", HTTP_X_API_KEY=world["owner_raw"])
            assert r.status_code == 403, (widening, r.content)
        key.refresh_from_db()
        assert key.usage_limit == 5


@pytest.mark.django_db
class TestRecentAddresses:
    def test_last_five_distinct_addresses_newest_first(self, api, world):
        raw, key = world["owner_raw"], world["owner_key"]
        for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"]:
            assert validate(api, raw, ip).status_code == 200
        detail = api.get(f"{KEYS}{key.public_id}/", HTTP_X_API_KEY=raw, REMOTE_ADDR="192.0.2.6").json()
        # Kept current to within a minute: .1 seen again within the minute keeps its first time.
        assert [e["ip"] for e in detail["recent_ips"]] == [
            "192.0.2.6",
            "192.0.2.5",
            "192.0.2.4",
            "192.0.2.3",
            "192.0.2.2",
        ]
        assert all(e["last_seen"] for e in detail["recent_ips"])

    def test_no_database_write_per_request(self, api, world, django_assert_num_queries):
        raw = world["member_raw"]
        validate(api, raw, "192.0.2.9")
        with django_assert_num_queries(0):
            for _ in range(10):
                assert validate(api, raw, "192.0.2.9").status_code == 200

    def test_a_fleet_on_one_key_does_not_rewrite_its_row_per_address(self, api, world):
        # An RMM tool's agents share one key from thousands of endpoints: one row write (and
        # row lock) per new address and minute would serialise them all on that row. At most
        # 60 writes a minute per key, whatever the number of addresses.
        world["tenant"].plan = "pro"  # 300 requests a minute: none of these is rate limited
        world["tenant"].save()
        raw = world["owner_raw"]
        with CaptureQueriesContext(connection) as queries:
            for n in range(90):
                assert validate(api, raw, f"10.1.{n // 250}.{n % 250 + 1}").status_code == 200
        writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "apikeys_apikey"')]
        assert 1 <= len(writes) <= 60
        detail = api.get(f"{KEYS}{world['owner_key'].public_id}/", HTTP_X_API_KEY=raw, REMOTE_ADDR="10.1.0.1").json()
        assert detail["last_used_at"] is not None
        assert len(detail["recent_ips"]) == 5


@pytest.mark.django_db
def test_a_rotation_can_be_watched(api, world):
    key, old = world["owner_key"], world["owner_raw"]
    issued = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=600)
    url = f"{KEYS}{key.public_id}/"

    def rotation() -> dict[str, Any]:
        return api.get(url, HTTP_X_API_KEY=issued.key).json()["rotation"]

    before = rotation()
    assert before["previous_prefix"] == old[:12] or old.startswith(before["previous_prefix"])
    assert before["previous_valid_until"]
    assert validate(api, old).status_code == 200
    watched = rotation()
    assert watched["previous_last_used_at"] is not None  # the old secret is still in use somewhere
    assert watched["current_last_used_at"] is not None  # (rotation() itself used the new one)
