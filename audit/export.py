"""CSV export of the audit log, streamed: rows are read from the database in chunks and
written out in ~64 KB pieces, so memory stays flat however many rows match."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.selectors import AuditScope, entry_data
from tater.timestamps import iso_utc

COLUMNS = (
    "id",
    "time",
    "channel",
    "action",
    "actor_user_id",
    "actor_email",
    "via",
    "key_id",
    "target_type",
    "target_id",
    "target_display",
    "organization_id",
    "tenant_id",
    "ip",
    "user_agent",
    "request_id",
    "changes",
)
_FLUSH_AT = 64 * 1024
# Spreadsheets run a cell starting with these as a formula (CSV injection): names of
# keys, orgs and user agents are user-controlled, so such cells get a leading quote. The
# sign counts after leading whitespace (spreadsheets skip it) and in its full-width form
# (U+FF1D and friends, read as ASCII by Excel's East Asian locales).
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    risky = text[:1] in ("\t", "\r") or text.lstrip()[:1] in _FORMULA_START
    return "'" + text if risky else text


def _cells(entry: dict[str, Any]) -> list[str]:
    target = entry["target"] or {}
    values = (
        entry["id"],
        iso_utc(entry["time"]),  # as the JSON list writes it
        entry["channel"],
        entry["action"],
        entry["actor"]["user_id"],
        entry["actor"]["email"],
        entry["via"],
        entry["key_id"],
        target.get("type"),
        target.get("id"),
        target.get("display"),
        entry["organization_id"],
        entry["tenant_id"],
        entry["ip"],
        entry["user_agent"],
        entry["request_id"],
        json.dumps(entry["changes"], sort_keys=True, default=str) if entry["changes"] else "",
    )
    return [_cell(v) for v in values]


def csv_chunks(rows: Iterable[dict[str, Any]], scope: AuditScope) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_cells(entry_data(row, scope)))
        if buffer.tell() >= _FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(rows: Iterable[dict[str, Any]], scope: AuditScope) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(rows, scope), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{scope.org_public_id}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
