from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent


def raw_sql(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """Tamper with the audit table the way an attacker with SQL access would. On PostgreSQL
    the append-only trigger is switched off inside the test's transaction (rolled back
    with it); SQLite has no trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER tater_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER tater_audit_append_only")


def run_command(name: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run a command with --json; returns (exit code, the JSON of its last stdout line)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command(name, *args, "--json", stdout=out, stderr=StringIO())
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def entries() -> Iterator[Any]:
    """Entries written during the test (ids above the ones that existed before)."""
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    class Since:
        def all(self) -> list[AuditEvent]:
            return list(AuditEvent.objects.filter(id__gt=start).order_by("id"))

    yield Since()
