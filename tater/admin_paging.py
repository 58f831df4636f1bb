"""Admin change lists of tables that grow without bound (the audit log, API keys) open in
constant time (SPEC §12): an unfiltered list on PostgreSQL shows the planner's row estimate
(``pg_class.reltuples``, kept by autovacuum's ANALYZE) instead of a ``COUNT(*)`` over every
row on each page view, once that estimate reaches ``TATER_ADMIN_ESTIMATED_COUNT_FROM``
(100,000 by default). Filtered and searched lists, small tables and other databases count
exactly. Use with ``show_full_result_count = False`` (the other whole-table count)."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

__all__ = ["EstimatedCountPaginator"]

DEFAULT_ESTIMATED_COUNT_FROM = 100_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet) and not rows.query.where and connections[rows.db].vendor == "postgresql":
            estimate = _estimated_rows(rows)
            if estimate >= getattr(settings, "TATER_ADMIN_ESTIMATED_COUNT_FROM", DEFAULT_ESTIMATED_COUNT_FROM):
                return estimate
        return super().count


def _estimated_rows(rows: QuerySet) -> int:
    """The planner's estimate of the table's rows; -1 for a table never analysed."""
    with connections[rows.db].cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [rows.model._meta.db_table])
        found = cursor.fetchone()
    return int(found[0]) if found else -1
