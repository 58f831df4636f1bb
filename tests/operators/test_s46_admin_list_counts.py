"""SPEC §10, §12 (operations at scale): the admin's audit log and key lists open in constant
time however long the log grows. An unfiltered page of a big table shows the planner's row
estimate (PostgreSQL's ``pg_class.reltuples``) instead of running ``COUNT(*)`` over every
row on each page view; a filtered or search page, and any small table, counts exactly."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from tests.factories import make_key, make_tenant, operator_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_postgresql_only")]

PAGES = [("/admin/audit/auditevent/", AuditEvent._meta.db_table), ("/admin/apikeys/apikey/", "apikeys_apikey")]


def _counts_over(queries: list[dict[str, Any]], table: str) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and f'"{table}"' in q["sql"]]


def _analyze(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')


@pytest.mark.parametrize(("page", "table"), PAGES)
def test_an_unfiltered_page_of_a_big_table_counts_no_row(settings: Any, page: str, table: str) -> None:
    settings.TATER_ADMIN_ESTIMATED_COUNT_FROM = 5
    tenant, owner, (org,) = make_tenant()
    for n in range(8):
        make_key(user=owner, tenant=tenant, org=org, name=f"k{n}")  # an audit entry each too
    _analyze(table)
    client = operator_client(settings)

    with CaptureQueriesContext(connection) as seen:
        r = client.get(page)
    assert r.status_code == 200
    assert not [sql for sql in _counts_over(seen.captured_queries, table) if " WHERE " not in sql.upper()]

    # A filtered page counts exactly what it shows.
    with CaptureQueriesContext(connection) as seen:
        r = client.get(page, {"q": "k3"})
    assert r.status_code == 200
    assert _counts_over(seen.captured_queries, table)


def test_a_small_table_is_counted_exactly(settings: Any) -> None:
    settings.TATER_ADMIN_ESTIMATED_COUNT_FROM = 10_000
    tenant, owner, (org,) = make_tenant()
    make_key(user=owner, tenant=tenant, org=org, name="only")
    _analyze("apikeys_apikey")
    r = operator_client(settings).get("/admin/apikeys/apikey/")
    assert r.status_code == 200
    assert "1 api key" in r.content.decode().lower()
