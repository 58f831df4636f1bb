"""The per-request cost of auth + rate limit + usage + last-used (issue 9's query budget)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys.models import KeyUsageHourly
from apikeys.principal import forget_digests
from tater import ratelimit

VALIDATE = "/api/v1/auth/validate"


@pytest.mark.django_db
class TestQueryBudget:
    def test_warm_request_does_no_query(self, api, world, django_assert_num_queries):
        raw = world["owner_raw"]
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200  # loads the principal, last-used write
        for _ in range(3):
            with django_assert_num_queries(0):
                r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
            assert r.status_code == 200
            assert "X-RateLimit-Remaining" in r

    def test_cold_request_does_one_query(self, api, world, django_assert_max_num_queries):
        raw, key = world["owner_raw"], world["owner_key"]
        api.get(VALIDATE, HTTP_X_API_KEY=raw)  # this minute's last-used write is done
        forget_digests([key.digest])  # the verified-key cache is cold again
        with django_assert_max_num_queries(1):
            assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200

    def test_no_write_per_request(self, api, world):
        raw = world["owner_raw"]
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(30):
                assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
        writes = [q["sql"] for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
        # One last-used write per key per minute; usage and limits live in the cache.
        assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE")
        assert not KeyUsageHourly.objects.exists()

    def test_rate_limited_request_does_no_query(self, api, world, django_assert_num_queries, settings):
        settings.TATER_PLAN_RATE_LIMITS = {"free": (1, 100)}
        raw = world["owner_raw"]
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        with django_assert_num_queries(0):
            assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 429


@pytest.mark.realservices
@pytest.mark.django_db
class TestRedisRoundTrips:
    """On Redis: one round trip, a Lua script that checks the memoized principal's
    generation and does every counter."""

    def test_warm_request_is_one_round_trip(self, api, world, monkeypatch):
        import redis.connection

        raw = world["owner_raw"]
        api.get(VALIDATE, HTTP_X_API_KEY=raw)
        api.get(VALIDATE, HTTP_X_API_KEY=raw)  # scripts loaded, memos warm
        commands: list[bytes] = []
        original = redis.connection.AbstractConnection.send_packed_command

        def counting(self, command, *args, **options):
            # One send = one round trip (a pipeline too); note each send's first command.
            chunks = [command] if isinstance(command, (bytes, str)) else list(command)
            commands.append(b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).split(b"\r\n")[2])
            return original(self, chunks, *args, **options)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
        original_sendall = ratelimit._sendall

        def counting_sendall(conn, packed):  # the limiter's own connection (tater.ratelimit)
            commands.append(packed.split(b"\r\n")[2])
            return original_sendall(conn, packed)

        monkeypatch.setattr(ratelimit, "_sendall", counting_sendall)
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
        assert commands == [b"EVALSHA"]
