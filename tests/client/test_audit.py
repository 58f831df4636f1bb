"""``tater.audit`` against the live server: filters, cursor paging, the streamed CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from tater_client import AuditEntry, AuditPage, PermissionDenied, ValidationError

from .conftest import bulk_audit


def test_list_filters_and_cursor_paging(tater, acme):
    created = [tater.keys.create(f"key {i}", scopes=["scans:read"]) for i in range(5)]

    page = tater.audit.list(action="api_key.created", channel="api", limit=2)
    assert isinstance(page, AuditPage)
    assert len(page.entries) == 2 and page.next_cursor and page.limit == 2
    entry = page.entries[0]
    assert isinstance(entry, AuditEntry)
    # Newest first: the last key created.
    assert (entry.action, entry.channel, entry.via) == ("api_key.created", "api", "api")
    assert entry.key_id == acme.owner_key.public_id
    assert entry.target is not None and entry.target.id == created[-1].id
    assert entry.actor.email == acme.owner.email
    assert entry.organization_id == acme.org.public_id and entry.request_id
    assert entry.time.tzinfo is not None

    following = tater.audit.list(action="api_key.created", channel="api", limit=2, cursor=page.next_cursor)
    assert {e.id for e in following.entries}.isdisjoint(e.id for e in page.entries)

    every = list(tater.audit.iter(action="api_key.created", channel="api", page_size=2))
    assert [e.target.id for e in every if e.target] == [k.id for k in reversed(created)]
    assert {e.action for e in tater.audit.iter(action="api_key.*")} == {"api_key.created"}
    assert all(e.key_id == acme.owner_key.public_id for e in tater.audit.iter(key=acme.owner_key.public_id))
    assert list(tater.audit.iter(actor=acme.owner.email, since=date.today() + timedelta(days=2))) == []
    until = datetime.now(UTC) - timedelta(days=1)
    assert tater.audit.list(until=until).entries == []


def test_bad_filters_raise_validation_errors_naming_the_field(tater):
    with pytest.raises(ValidationError) as caught:
        tater.audit.list(since="yesterday")
    assert list(caught.value.fields) == ["since"]


ROWS = 3000


def test_csv_export_streams_lazily(acme, connect, counting):
    bulk_audit(acme, ROWS)
    tater = connect(transport=counting)

    rows = tater.audit.export_rows(action="api_key.updated")
    first = next(rows)
    assert (first["action"], first["channel"], first["user_agent"]) == ("api_key.updated", "api", "bulk/1.0")
    # One row in, the client has pulled a chunk or so of the export, not the whole of it.
    pulled_for_first_row = counting.bytes_read
    remaining = list(rows)
    assert len(remaining) == ROWS - 1
    assert counting.bytes_read > 5 * pulled_for_first_row
    assert {r["target_display"] for r in [first, *remaining]} == {f"Key number {i}" for i in range(ROWS)}
    assert counting.calls == [("GET", "/api/v1/audit-log/", 200)]


def test_csv_export_chunks_and_file(acme, tater, tmp_path):
    bulk_audit(acme, ROWS)
    chunks = list(tater.audit.export(since=date.today() - timedelta(days=1), chunk_size=16 * 1024))
    assert len(chunks) > 3
    body = b"".join(chunks)

    target = tmp_path / "audit.csv"
    written = tater.audit.export_to(target, since=date.today() - timedelta(days=1))
    assert written == len(body) == target.stat().st_size
    assert not (tmp_path / "audit.csv.part").exists()
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert sum(r["action"] == "api_key.updated" for r in rows) == ROWS

    buffer = io.BytesIO()
    assert tater.audit.export_to(buffer, action="api_key.updated") > 0
    assert buffer.getvalue().startswith(b"id,time,channel,action,")


def test_csv_export_errors_raise_before_any_file(tater, tmp_path):
    target = tmp_path / "audit.csv"
    with pytest.raises(ValidationError) as caught:
        tater.audit.export_to(target, since="not a date")
    assert list(caught.value.fields) == ["since"]
    assert list(tmp_path.iterdir()) == []


def test_export_without_the_scope_is_refused(acme, connect):
    _, raw = acme.key(scopes=["scans:read"])
    with pytest.raises(PermissionDenied) as caught:
        next(connect(raw).audit.export_rows())
    assert caught.value.required_permissions == ["audit:read"]
