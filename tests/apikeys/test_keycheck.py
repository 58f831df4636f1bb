"""The key check (apikeys.keycheck): the verified-key memo and its generations.

Warm key requests cost no query, no database write and (on Redis) exactly one round
trip, and every change to a key, its owner's roles or its tenant is effective on the very
next request, in this process and (on Redis) in every other process sharing the store.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import keycheck
from apikeys import services as key_services
from orgs import services as org_services
from tater import limiter
from tater.limiter import InProcessBackend
from tests.factories import UserFactory, make_key

VALIDATE = "/api/v1/auth/validate"


def validate(api: Any, raw: str) -> Any:
    return api.get(VALIDATE, HTTP_X_API_KEY=raw)


def warm(api: Any, raw: str, n: int = 3) -> None:
    for _ in range(n):
        assert validate(api, raw).status_code == 200


class RoundTrips:
    """Counts Redis round trips at redis-py's connections: one per packed send (a
    pipeline is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import redis.connection

        self.count = 0
        original = redis.connection.AbstractConnection.send_packed_command

        def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(conn, *args, **kwargs)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)


@pytest.mark.django_db
class TestQueries:
    def test_warm_requests_run_no_query_and_write_nothing(self, api, world):
        raw = world["owner_raw"]
        warm(api, raw)  # includes this minute's one last-used write
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(25):
                r = validate(api, raw)
                assert r.status_code == 200 and "X-RateLimit-Remaining" in r
        assert ctx.captured_queries == []

    def test_cold_request_is_one_query(self, api, world, django_assert_num_queries):
        raw, key = world["owner_raw"], world["owner_key"]
        warm(api, raw, 1)
        keycheck.forget([key.digest])
        with django_assert_num_queries(1):
            assert validate(api, raw).status_code == 200
        with django_assert_num_queries(0):
            assert validate(api, raw).status_code == 200

    def test_cold_unbound_key_is_one_query_with_every_org_of_its_tenant(self, api, world, django_assert_num_queries):
        key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
        warm(api, raw, 1)
        keycheck.forget([key.digest])
        with django_assert_num_queries(1):
            r = validate(api, raw)
        assert r.status_code == 200 and r.json()["binding"] == "unbound"
        for org in (world["org1"], world["org2"]):
            r = api.get(f"/api/v1/keys/?organizationId={org.public_id}", HTTP_X_API_KEY=raw)
            assert r.status_code == 200
        r = api.get(f"/api/v1/keys/?organizationId={world['other_org'].public_id}", HTTP_X_API_KEY=raw)
        assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED")
        r = api.get("/api/v1/keys/", HTTP_X_API_KEY=raw)  # two orgs and no hint
        assert (r.status_code, r.json()["error"]) == (400, "AMBIGUOUS_ORG")

    def test_rotated_out_secret_verifies_in_one_query(self, api, world, django_assert_num_queries):
        key, old = world["owner_key"], world["owner_raw"]
        issued = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=600)
        warm(api, issued.key, 1)  # this minute's last-used writes, one per secret
        warm(api, old, 1)
        keycheck.forget([issued.api_key.previous_digest])  # no process, no store has it now
        with django_assert_num_queries(1):
            r = validate(api, old)
        assert r.status_code == 200 and r.json()["id"] == key.public_id

    def test_cold_lookup_is_a_prepared_statement_on_postgresql(self, api, world):
        """Planning the lookup cost more than running it and grew with the table: on
        PostgreSQL it is prepared once per connection (psycopg, after 5 runs)."""
        if connection.vendor != "postgresql":
            pytest.skip("prepared statements are PostgreSQL's")
        raw, key = world["owner_raw"], world["owner_key"]
        for _ in range(6):
            keycheck.forget([key.digest])
            assert validate(api, raw).status_code == 200
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ['%"previous_digest" = $2%']
            )
            prepared = [row[0] for row in cursor.fetchall()]
        assert len(prepared) == 1 and "UNION ALL" in prepared[0]

    def test_unknown_key_is_remembered(self, api, db, django_assert_max_num_queries):
        bad = "tater_" + "1" * 32
        assert validate(api, bad).status_code == 401
        with django_assert_max_num_queries(1):  # the lockout's audit aside, no key lookup
            r = validate(api, bad)
        assert (r.status_code, r.json()["error"]) == (401, "UNAUTHORIZED")


@pytest.mark.django_db
class TestNoStaleWindow:
    """Each change is seen by the very next request of a key whose principal is memoized."""

    def test_revocation(self, api, world):
        warm(api, world["owner_raw"])
        key_services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
        r = validate(api, world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")

    def test_deactivation_and_reactivation(self, api, world):
        key, raw = world["member_key"], world["member_raw"]
        warm(api, raw)
        key_services.apikey_set_active(api_key=key, actor=world["owner"], active=False)
        assert validate(api, raw).json()["error"] == "KEY_INACTIVE"
        key.refresh_from_db()
        key_services.apikey_set_active(api_key=key, actor=world["member"], active=True)  # its owner
        assert validate(api, raw).status_code == 200

    def test_owner_demotion_kills_an_unbound_key(self, api, world):
        tenant, owner = world["tenant"], world["owner"]
        _, raw = make_key(user=owner, tenant=tenant, org=None, name="unbound")
        warm(api, raw)
        org_services.tenant_member_set(tenant=tenant, user=UserFactory(), role="owner", actor=owner)
        org_services.tenant_member_set(tenant=tenant, user=owner, role="admin", actor=owner)
        r = validate(api, raw)
        assert (r.status_code, r.json()["error"]) == (401, "UNAUTHORIZED")

    def test_org_role_change_narrows_permissions(self, api, world):
        admin = world["admin"]
        _, raw = make_key(user=admin, tenant=world["tenant"], org=world["org1"], scopes=["*"])
        warm(api, raw)
        assert "members:write" in validate(api, raw).json()["permissions"]
        org_services.org_member_set(organization=world["org1"], user=admin, role="viewer", actor=world["owner"])
        assert "members:write" not in validate(api, raw).json()["permissions"]

    def test_tenant_plan_change(self, api, world, settings):
        settings.TATER_PLAN_RATE_LIMITS = {"free": (5, 1000), "pro": (7, 1000)}
        raw = world["owner_raw"]
        warm(api, raw, 1)
        org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], plan="pro")
        assert validate(api, raw)["X-RateLimit-Limit"] == "7"

    def test_refused_by_permission_consumes_no_quota(self, api, world):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], rate_limit="2/min", scopes=["scans:read"]
        )
        for _ in range(4):  # needs keys:read: 403 before the limiter
            r = api.get("/api/v1/keys/", HTTP_X_API_KEY=raw)
            assert r.status_code == 403 and r["X-RateLimit-Remaining"] == "2"  # reported, not consumed
        assert [validate(api, raw).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.realservices
@pytest.mark.django_db
class TestRedisRoundTrips:
    def test_warm_request_is_exactly_one_round_trip(self, api, world, monkeypatch):
        raw = world["owner_raw"]
        warm(api, raw)  # principal memoized, script loaded, last-used written
        trips = RoundTrips(monkeypatch)
        for _ in range(10):
            assert validate(api, raw).status_code == 200
        assert trips.count == 10

    def test_stale_memo_costs_a_reload_not_a_wrong_answer(self, api, world):
        from apikeys.models import ApiKey

        raw, key = world["owner_raw"], world["owner_key"]
        warm(api, raw)
        # Another process revoked the key: the row and the generation changed (written
        # here by hand, without this process's receivers), this process's memo did not.
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=key.created_at)
        limiter.get_limiter().write({keycheck.gen_name(key.digest): "elsewhere"}, ttl=60)
        r = validate(api, raw)
        assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")

    def test_cold_process_takes_one_round_trip_when_another_has_used_the_key(self, api, world, monkeypatch):
        from apikeys import usage

        raw = world["owner_raw"]
        warm(api, raw)  # verified and used here this minute: principal, rules and last use in Redis
        keycheck.reset()  # a process that has seen neither the key ...
        usage.reset_local_memo()  # ... nor its last use
        trips = RoundTrips(monkeypatch)
        assert validate(api, raw).status_code == 200
        assert trips.count == 1  # principal, generation, count and last-use gate in one script call
        for _ in range(3):
            assert validate(api, raw).status_code == 200
        assert trips.count == 4

    def test_cold_process_takes_the_principal_from_redis_without_a_query(self, api, world, django_assert_num_queries):
        raw = world["owner_raw"]
        warm(api, raw)  # verified here: shared in Redis
        keycheck.reset()  # a process that has not seen the key
        with django_assert_num_queries(0):
            assert validate(api, raw).status_code == 200


@pytest.mark.django_db
def test_user_deactivation_and_reactivation_apply_on_the_next_request(api, world):
    raw, member = world["member_raw"], world["member"]
    warm(api, raw)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert validate(api, raw).status_code == 401
    member.is_active = True
    member.save(update_fields=["is_active"])
    assert validate(api, raw).status_code == 200  # not after a memo TTL: at once


def test_receivers_watch_exactly_the_models_the_query_reads():
    """The invalidation list and the lookup query are written in two places: held together here."""
    import re

    from apikeys.principal import lookup_sql as sql_for
    from apikeys.principal import read_models

    for vendor in ("sqlite", "postgresql"):
        tables = set(re.findall(r'(?:FROM|JOIN) "(\w+)"', sql_for(vendor)))
        assert tables == {model._meta.db_table for model in read_models()}, vendor
    assert keycheck.watched_models() == set(read_models())


@pytest.mark.django_db
def test_workers_on_one_host_share_a_generation_file(api, world, tmp_path):
    """In-process limiter + an SQLite file: a change made by another process (a forked child
    here) bumps the host-wide generation, and this process reloads on its very next request."""
    import os

    from apikeys.models import ApiKey

    if not isinstance(limiter.get_limiter().backend, InProcessBackend):
        pytest.skip("the generation file is for the in-process store")
    path = str(tmp_path / "db.sqlite3.keygen")
    shared = keycheck.use_shared_generation(path)
    try:
        raw, key = world["owner_raw"], world["owner_key"]
        warm(api, raw)
        # Another worker revokes: the row changes, but this process's receivers do not run...
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=key.created_at)
        assert validate(api, raw).status_code == 200  # (the memo is what answered)
        # ...its invalidation bumps the shared generation, though.
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                keycheck.SharedGeneration(path).bump()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        r = validate(api, raw)
        assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")
        # And this process's own invalidations bump it too.
        before = shared.read()
        keycheck.forget([key.digest])
        assert shared.read() == before + 1
    finally:
        keycheck.reset()
