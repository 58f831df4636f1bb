"""Per-key usage: counted in the cache, flushed in batches, served by the API and charted."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import usage
from apikeys.models import KeyUsageHourly
from apikeys.usage_chart import key_usage_chart, render_usage_chart
from tests.factories import make_key
from tests.ratelimit.conftest import T0

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"
HOUR = datetime.fromtimestamp(int(T0) // 3600 * 3600, tz=UTC)


def flush_json() -> dict:
    out = StringIO()
    call_command("flush_key_usage", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def usage_of(api, key, raw, **params):
    return api.get(f"{KEYS}{key.public_id}/usage/", params, HTTP_X_API_KEY=raw)


@pytest.mark.django_db
class TestCounting:
    def test_requests_and_errors_counted_without_db_writes_then_flushed(self, api, world, clock):
        raw, key = world["member_raw"], world["member_key"]
        api.get(VALIDATE, HTTP_X_API_KEY=raw)  # the minute's last-used write happens here
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(4):
                assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
            # Errors: a 404 inside the view, and a 403 refused before the limiter.
            assert api.get(f"{KEYS}key-nope/", HTTP_X_API_KEY=raw).status_code == 404
            r = api.get(f"/api/v1/organizations/{world['org1'].public_id}/members/", HTTP_X_API_KEY=raw)
            assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
            # Refused before the limiter: the headers report the quota, which stays unused.
            assert r["X-RateLimit-Remaining"] == str(int(r["X-RateLimit-Limit"]) - 6)
        writes = [q["sql"] for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
        assert writes == []
        assert not KeyUsageHourly.objects.exists()
        assert flush_json() == {"flushed": True, "rows": 1, "requests": 7, "errors": 2, "pruned": 0}
        row = KeyUsageHourly.objects.get()
        assert (row.key_id, row.hour, row.requests, row.errors) == (key.pk, HOUR, 7, 2)
        # Counters were claimed: a second flush adds nothing; new traffic adds to the row.
        assert flush_json()["requests"] == 0
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        flush_json()
        row.refresh_from_db()
        assert (row.requests, row.errors) == (8, 2)

    def test_rate_limited_requests_count_as_errors(self, api, world, clock):
        key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="2/min")
        for _ in range(5):
            api.get(VALIDATE, HTTP_X_API_KEY=raw)
        usage.flush()
        row = KeyUsageHourly.objects.get(key=key)
        assert (row.requests, row.errors) == (5, 3)

    def test_hours_are_separate_rows(self, api, world, clock):
        raw, key = world["owner_raw"], world["owner_key"]
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        clock.advance(3600)
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        usage.flush()
        rows = list(KeyUsageHourly.objects.filter(key=key).order_by("hour").values_list("hour", "requests"))
        assert rows == [(HOUR, 1), (HOUR + timedelta(hours=1), 2)]

    def test_old_rows_pruned_on_flush(self, world, clock):
        key = world["owner_key"]
        KeyUsageHourly.objects.create(key=key, hour=HOUR - timedelta(days=91), requests=3)
        KeyUsageHourly.objects.create(key=key, hour=HOUR - timedelta(days=89), requests=4)
        assert usage.flush().pruned == 1
        assert list(KeyUsageHourly.objects.values_list("requests", flat=True)) == [4]

    def test_deleted_key_counters_are_dropped(self, api, world, clock):
        key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"])
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        key.delete()
        assert usage.flush().rows == 1
        assert list(KeyUsageHourly.objects.values_list("key_id", flat=True)) == [world["owner_key"].pk]

    def test_flushes_add_up(self, api, world, clock):
        """Each process adds its own counts to the row (several workers, several flushes)."""
        api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert flush_json()["requests"] == 1
        for _ in range(2):
            api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert flush_json()["requests"] == 2
        assert list(KeyUsageHourly.objects.values_list("requests", flat=True)) == [3]

    def test_opportunistic_flush_at_most_once_per_interval(self, api, world, clock, settings):
        settings.TATER_USAGE_FLUSH_INTERVAL = 60
        raw = world["owner_raw"]
        api.get(VALIDATE, HTTP_X_API_KEY=raw)  # schedules the first flush an interval ahead
        assert not KeyUsageHourly.objects.exists()
        clock.advance(61)  # the interval has passed
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert KeyUsageHourly.objects.get().requests == 2
        with CaptureQueriesContext(connection) as ctx:
            api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert len(ctx.captured_queries) == 0
        assert KeyUsageHourly.objects.get().requests == 2


@pytest.mark.django_db
class TestUsageApi:
    def test_hourly_buckets_include_unflushed_counts(self, api, world, clock):
        raw, key = world["owner_raw"], world["owner_key"]
        KeyUsageHourly.objects.create(key=key, hour=HOUR - timedelta(hours=2), requests=10, errors=1)
        for _ in range(3):
            api.get(VALIDATE, HTTP_X_API_KEY=raw)
        r = usage_of(api, key, raw, hours=3)
        assert r.status_code == 200
        data = r.json()
        assert data["key_id"] == key.public_id
        assert data["granularity"] == "hour"
        hours = [b["hour"] for b in data["buckets"]]
        assert hours == [(HOUR - timedelta(hours=n)).isoformat().replace("+00:00", "Z") for n in (2, 1, 0)]
        # This usage call is counted too (by the limiter, before the view runs).
        assert [(b["requests"], b["errors"]) for b in data["buckets"]] == [(10, 1), (0, 0), (4, 0)]
        assert data["totals"] == {"requests": 14, "errors": 1}
        assert data["from"] == "2030-03-17T16:00:00Z" and data["to"] == "2030-03-17T19:00:00Z"
        assert usage_of(api, key, raw, hours=1).json()["buckets"][0]["requests"] == 5

    def test_days(self, api, world, clock):
        r = usage_of(api, world["owner_key"], world["owner_raw"], days=7)
        assert len(r.json()["buckets"]) == 7 * 24
        assert len(usage_of(api, world["owner_key"], world["owner_raw"]).json()["buckets"]) == 24

    @pytest.mark.parametrize(
        ("params", "field"), [({"hours": 0}, "hours"), ({"days": 91}, "days"), ({"hours": 2, "days": 1}, "days")]
    )
    def test_validation(self, api, world, params, field):
        r = usage_of(api, world["owner_key"], world["owner_raw"], **params)
        assert r.status_code == 400
        assert r.json()["error"] == "VALIDATION_ERROR"
        assert field in r.json()["details"]["fields"]

    def test_outside_reach_is_404(self, api, world):
        r = usage_of(api, world["other_key"], world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (404, "NOT_FOUND")
        # A member sees only their own keys.
        r = usage_of(api, world["owner_key"], world["member_raw"])
        assert r.status_code == 404

    def test_needs_keys_read(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["scans:read"])
        r = usage_of(api, world["owner_key"], raw)
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        assert r.json()["details"]["required_permissions"] == ["keys:read"]


@pytest.mark.django_db
class TestChart:
    def test_chart_of_flushed_and_pending_usage(self, api, world, clock):
        raw, key = world["owner_raw"], world["owner_key"]
        for _ in range(4):
            api.get(VALIDATE, HTTP_X_API_KEY=raw)
        api.get(f"{KEYS}key-nope/", HTTP_X_API_KEY=raw)
        usage.flush()
        clock.advance(3600)
        api.get(VALIDATE, HTTP_X_API_KEY=raw)  # still in the cache
        svg = str(key_usage_chart(key_pk=key.pk, hours=3))
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert 'aria-label="API key usage: 6 requests, 1 errors' in svg
        assert f"{HOUR:%Y-%m-%d %H:00} UTC: 5 requests, 1 errors" in svg
        assert f"{HOUR + timedelta(hours=1):%Y-%m-%d %H:00} UTC: 1 requests, 0 errors" in svg
        assert len(re.findall(r'class="usage-chart__requests"', svg)) == 1 + 2  # legend + two hours
        assert len(re.findall(r'class="usage-chart__errors"', svg)) == 1 + 1
        # No script, no inline style (the CSP forbids both), nothing external.
        assert (
            "<script" not in svg
            and "style=" not in svg
            and "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
        )

    def test_bar_heights_scale_to_the_peak(self):
        buckets = [usage.Bucket(HOUR + timedelta(hours=i), n, 0) for i, n in enumerate([0, 5, 10])]
        svg = str(render_usage_chart(buckets, width=300, height=140))
        heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#4a78c2" class="usage-chart__requests"', svg)]
        assert heights[0] == 10  # the legend swatch
        assert heights[2] == pytest.approx(2 * heights[1])  # 10 is twice 5, on a 0..10 axis

    def test_empty_and_escaped(self):
        buckets = [usage.Bucket(HOUR, 0, 0)]
        svg = str(render_usage_chart(buckets, title='<b>"x"</b>'))
        assert "No requests in this period" in svg
        assert "<b>" not in svg and "&lt;b&gt;" in svg
