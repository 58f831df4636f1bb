"""SPEC §7 on PostgreSQL: the runtime role the README recommends (not the table owner) cannot
UPDATE, DELETE or TRUNCATE audit entries, with or without session settings; the only deletion
is the audited retention purge, which refuses entries younger than the minimum retention.

Each test creates real roles (unique names, dropped at the end) and connects as them: privileges
are those of the login role, so ``SET ROLE`` from the test's superuser would prove less. The tests
are transactional (the roles' own connections must see the rows); the flush after each one
truncates as the superuser, which the TRUNCATE trigger lets through (superusers bypass triggers
anyway).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit import registry as A
from audit.models import AuditEvent
from audit.services import audit_record
from orgs import services as org_services
from tests.factories import make_tenant

psycopg = pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        reason="the database roles are PostgreSQL's",
    ),
    pytest.mark.django_db(transaction=True),
]

ROW_SQL = (
    "UPDATE audit_auditevent SET action = 'x'",
    "UPDATE audit_auditevent SET entry_hash = entry_hash",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "TRUNCATE audit_auditevent CASCADE",
)


def su(sql: str, params: list[Any] | None = None) -> Any:
    """Run SQL as the test's own (superuser) connection, committed at once."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@pytest.fixture
def make_role() -> Iterator[Callable[..., str]]:
    """Creates login roles that exist for this test only; returns a factory."""
    created: list[str] = []

    def make(kind: str) -> str:
        name = f"tater_test_{kind}_{secrets.token_hex(4)}"
        su(f"CREATE ROLE {quote(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        created.append(name)
        return name

    yield make
    superuser = connection.settings_dict["USER"] or "postgres"
    for name in created:
        su("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name])
        # Whatever the test left the role owning goes back to the superuser before the
        # role's privileges are dropped (DROP OWNED would otherwise drop the objects).
        su(f"REASSIGN OWNED BY {quote(name)} TO {quote(superuser)}")
        su(f"DROP OWNED BY {quote(name)}")
        su(f"DROP ROLE {quote(name)}")


@pytest.fixture
def connect() -> Iterator[Callable[[str], Any]]:
    """A psycopg connection logged in as the given role (trust auth on loopback)."""
    opened: list[Any] = []
    settings = connection.settings_dict

    def open_as(role: str) -> Any:
        conn = psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            dbname=settings["NAME"],
            user=role,
            autocommit=True,
        )
        opened.append(conn)
        return conn

    yield open_as
    for conn in opened:
        conn.close()


def setup_db_roles(*args: str) -> str:
    out = StringIO()
    call_command("setup_db_roles", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def runtime_role(make_role: Callable[[str], str]) -> str:
    """A role with exactly the privileges ``setup_db_roles --apply`` grants."""
    role = make_role("app")
    setup_db_roles("--runtime-role", role, "--apply")
    return role


def count() -> int:
    return AuditEvent.objects.count()


def refused(conn: Any, sql: str, params: list[Any] | None = None) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
        conn.execute(sql, params)
    return str(caught.value)


def history(name: str = "Acme", *, old: int = 2, recent: int = 3) -> Any:
    """A tenant whose first ``old + 2`` entries are 400 days old, then ``recent`` renames."""
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=400)):
        tenant, owner, (org,) = make_tenant(name=name)
        for i in range(old):
            org_services.org_rename(organization=org, name=f"{name} {i}", actor=owner)
    for i in range(recent):
        org_services.org_rename(organization=org, name=f"{name} recent {i}", actor=owner)
    return tenant


def manage_as(role: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run a management command in its own process, connected as ``role``."""
    settings = connection.settings_dict
    url = f"postgres://{role}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-3000:]
    return result.returncode, json.loads(lines[-1])


class TestRuntimeRole:
    def test_cannot_update_delete_or_truncate(self, runtime_role, connect):
        history()
        before = list(AuditEvent.objects.order_by("id").values_list("id", "action", "entry_hash"))
        conn = connect(runtime_role)
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (len(before),)
        for sql in ROW_SQL:
            refused(conn, sql)
        assert list(AuditEvent.objects.order_by("id").values_list("id", "action", "entry_hash")) == before

    def test_session_settings_do_not_unlock_anything(self, runtime_role, connect):
        history()
        total = count()
        conn = connect(runtime_role)
        with conn.transaction():
            conn.execute("SELECT set_config('tater.audit_purge', 'on', true)")
            refused(conn, "DELETE FROM audit_auditevent")
        conn.execute("SET tater.audit_purge = 'on'")
        refused(conn, "DELETE FROM audit_auditevent")
        refused(conn, "TRUNCATE audit_auditevent")
        # Switching triggers off needs a superuser or the owner.
        refused(conn, "SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
            conn.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL")
        refused(conn, "DROP TABLE audit_auditevent")
        assert count() == total

    def test_can_read_and_append_but_not_rewrite_the_chain_heads(self, runtime_role, connect):
        tenant = history()
        conn = connect(runtime_role)
        assert conn.execute("SELECT count(*) FROM audit_auditevent WHERE tenant_id = %s", [tenant.pk]).fetchone()[0] > 0
        refused(conn, "DELETE FROM audit_auditchainhead")
        refused(conn, "TRUNCATE audit_auditchainhead")

    def test_purge_function_refuses_entries_younger_than_the_minimum(self, runtime_role, connect):
        tenant, owner, (org,) = make_tenant(name="Fresh")
        org_services.org_rename(organization=org, name="Fresh 2", actor=owner)
        audit_record(action=A.USER_LOGIN_FAILED, tenant=None, actor_email="nobody@example.com")
        last = AuditEvent.objects.filter(tenant=tenant).order_by("-seq").values_list("seq", flat=True)[0]
        total = count()
        conn = connect(runtime_role)
        message = refused(conn, "SELECT tater_audit_purge(%s::bigint, %s::bigint)", [tenant.pk, last])
        assert "minimum retention" in message
        # The global chain and a bound past the end fare no better.
        assert "minimum retention" in refused(conn, "SELECT tater_audit_purge(NULL::bigint, %s::bigint)", [2**62])
        assert count() == total

    def test_purge_function_refuses_a_purge_that_is_not_recorded(self, runtime_role, connect):
        tenant = history()
        old = AuditEvent.objects.filter(tenant=tenant, created_at__lt=timezone.now() - timedelta(days=365))
        through = max(old.values_list("seq", flat=True))
        total = count()
        conn = connect(runtime_role)
        message = refused(conn, "SELECT tater_audit_purge(%s::bigint, %s::bigint)", [tenant.pk, through])
        assert "audit.purged" in message
        assert count() == total

    def test_a_role_granted_everything_is_still_refused_by_the_triggers(self, make_role, connect):
        # The deployment this issue found: an app role that is not the owner but holds every
        # table privilege (GRANT ALL). set_config() and TRUNCATE used to erase the log.
        role = make_role("app")
        su(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {quote(role)}")
        history()
        total = count()
        conn = connect(role)
        for sql in ROW_SQL:
            refused(conn, sql)
        with conn.transaction():
            conn.execute("SELECT set_config('tater.audit_purge', 'on', true)")
            assert "append-only" in refused(conn, "DELETE FROM audit_auditevent")
        assert count() == total


class TestPurgeAsRuntimeRole:
    def test_purge_audit_works_is_audited_and_the_chain_still_verifies(self, runtime_role):
        tenant = history(old=2, recent=3)
        other = history("Globex", old=1, recent=0)
        assert manage_as(runtime_role, "verify_audit", "--all")[0] == 0
        assert manage_as(runtime_role, "purge_audit", "--older-than", "30d")[0] == 1  # below the minimum
        code, result = manage_as(runtime_role, "purge_audit", "--older-than", "365d")
        assert code == 0, result
        by_tenant = {c["tenant_id"]: c for c in result["chains"]}
        assert by_tenant[tenant.public_id]["deleted"] == 4
        assert by_tenant[other.public_id]["deleted"] == 3
        remaining = list(AuditEvent.objects.filter(tenant=tenant).order_by("seq"))
        assert [e.seq for e in remaining] == [5, 6, 7, 8]
        purge = remaining[-1]
        assert (purge.action, purge.channel, purge.public_id) == (
            A.AUDIT_PURGED,
            "system",
            by_tenant[tenant.public_id]["event_id"],
        )
        assert purge.changes["deleted"] == 4 and purge.changes["anchor"]["seq"] == 5
        code, report = manage_as(runtime_role, "verify_audit", "--all")
        assert code == 0, report
        assert report["intact"] is True


class TestOwnerRole:
    def test_even_the_table_owner_cannot_truncate_update_or_delete(self, make_role, connect):
        # The recommended owner role is a plain (non-superuser) role that runs migrations.
        history()
        total = count()
        owner = make_role("owner")
        (previous,) = su("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_auditevent'")[0]
        su(f"ALTER TABLE audit_auditevent OWNER TO {quote(owner)}")
        try:
            conn = connect(owner)
            for sql in ROW_SQL:
                assert "append-only" in refused(conn, sql)
        finally:
            su(f"ALTER TABLE audit_auditevent OWNER TO {quote(previous)}")
        assert count() == total


class TestSetupCommand:
    def test_prints_the_grants_without_applying_them(self, make_role):
        role = make_role("app")
        sql = setup_db_roles("--runtime-role", role)
        assert f'REVOKE UPDATE, DELETE ON "public".audit_auditevent FROM "{role}";' in sql
        assert f'GRANT EXECUTE ON FUNCTION "public".tater_audit_purge(bigint, bigint) TO "{role}";' in sql
        assert su("SELECT has_table_privilege(%s, 'audit_auditevent', 'INSERT')", [role]) == [(False,)]

    def test_grants_exactly_append_and_read_on_the_audit_log(self, runtime_role):
        def may(table: str, privilege: str) -> bool:
            return su("SELECT has_table_privilege(%s, %s, %s)", [runtime_role, table, privilege])[0][0]

        assert may("audit_auditevent", "SELECT") and may("audit_auditevent", "INSERT")
        for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES"):
            assert not may("audit_auditevent", privilege), privilege
        assert may("audit_auditchainhead", "UPDATE") and not may("audit_auditchainhead", "DELETE")
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert may("apikeys_apikey", privilege), privilege
        assert not may("apikeys_apikey", "TRUNCATE")

    @pytest.mark.parametrize("who", ["superuser", "owner"])
    def test_refuses_a_runtime_role_that_could_bypass_the_guarantee(self, who, make_role):
        if who == "superuser":
            role = connection.settings_dict["USER"] or "postgres"
        else:
            role = make_role("owner")
            (table_owner,) = su("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_auditevent'")[0]
            su(f"GRANT {quote(table_owner)} TO {quote(role)}")
        with pytest.raises(CommandError):
            setup_db_roles("--runtime-role", role, "--apply")


OLD_TENANT = """
import django
django.setup()
from datetime import timedelta
from unittest import mock
from django.core.management import call_command
from django.utils import timezone
with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=400)):
    call_command("create_tenant", "--name", "Old", "--owner-email", "old@example.com")
"""


class TestDeployment:
    def test_owner_migrates_and_grants_then_the_app_role_runs_and_purges(self, make_role, connect):
        """The README's story end to end, on a fresh database owned by a non-superuser: the
        owner runs migrate and setup_db_roles --apply, the runtime role runs the app."""
        owner, app = make_role("owner"), make_role("app")
        settings = connection.settings_dict
        host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        database = f"tater_test_deploy_{secrets.token_hex(4)}"
        admin = psycopg.connect(host=host, port=port, dbname="postgres", user=settings["USER"], autocommit=True)
        admin.execute(f"CREATE DATABASE {quote(database)} OWNER {quote(owner)}")
        try:

            def run(role: str, *argv: str) -> subprocess.CompletedProcess[str]:
                env = {**os.environ, "DATABASE_URL": f"postgres://{role}@{host}:{port}/{database}"}
                return subprocess.run(  # noqa: S603 - fixed argv
                    [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
                )

            for argv in (
                ("manage.py", "migrate", "-v0"),
                ("manage.py", "setup_db_roles", "--runtime-role", app, "--apply"),
            ):
                done = run(owner, *argv)
                assert done.returncode == 0, done.stderr[-3000:]
            done = run(app, "-c", OLD_TENANT)
            assert done.returncode == 0, done.stderr[-3000:]
            done = run(app, "manage.py", "create_tenant", "--name", "New", "--owner-email", "new@example.com")
            assert done.returncode == 0, done.stderr[-3000:]

            as_app = psycopg.connect(host=host, port=port, dbname=database, user=app, autocommit=True)
            as_owner = psycopg.connect(host=host, port=port, dbname=database, user=owner, autocommit=True)
            try:
                (total,) = as_app.execute("SELECT count(*) FROM audit_auditevent").fetchone()
                assert total > 0
                for sql in ROW_SQL:
                    refused(as_app, sql)
                    assert "append-only" in refused(as_owner, sql)
                with as_app.transaction():
                    as_app.execute("SELECT set_config('tater.audit_purge', 'on', true)")
                    refused(as_app, "DELETE FROM audit_auditevent")
                chains = as_app.execute(
                    # The tenants' chains (create_tenant's new owner account is in the global one).
                    "SELECT tenant_id, max(seq) FROM audit_auditevent WHERE tenant_id IS NOT NULL"
                    " GROUP BY tenant_id ORDER BY min(created_at)"
                ).fetchall()
                (old_tenant, old_last), (new_tenant, new_last) = chains
                purge = "SELECT tater_audit_purge(%s::bigint, %s::bigint)"
                assert "audit.purged" in refused(as_app, purge, [old_tenant, old_last])
                assert "minimum retention" in refused(as_app, purge, [new_tenant, new_last])
                assert as_app.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (total,)
            finally:
                as_app.close()
                as_owner.close()

            done = run(app, "manage.py", "purge_audit", "--older-than", "365d", "--json")
            assert done.returncode == 0, done.stderr[-3000:]
            purged = json.loads(done.stdout.strip().splitlines()[-1])
            assert purged["deleted"] > 0 and all(c["event_id"] for c in purged["chains"])
            done = run(app, "manage.py", "verify_audit", "--all", "--json")
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        finally:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database])
            admin.execute(f"DROP DATABASE IF EXISTS {quote(database)}")
            admin.close()
