"""README "Endpoints": every date an answer carries is ISO 8601 in UTC ending in ``Z``, and
``GET audit-log/?format=csv`` is an export of the same entries (docs/audit.md). The export's
``time`` column read ``2026-12-07T16:27:10.881636+00:00`` while the JSON list said
``…Z`` for the same entry: a script joining the two, or parsing the column as the README
describes, saw two spellings of one moment."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-log/"


def _make_entries(api: Any, world: dict[str, Any]) -> None:
    for name in ("first", "second"):
        r = api.post("/api/v1/keys/", {"name": name}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 201, r.content


def test_csv_time_column_is_the_json_time(api: Any, world: dict[str, Any]) -> None:
    _make_entries(api, world)
    listed = api.get(URL, {"action": "api_key.created"}, HTTP_X_API_KEY=world["owner_raw"])
    assert listed.status_code == 200
    json_times = {entry["id"]: entry["time"] for entry in listed.json()["entries"]}
    exported = api.get(URL, {"format": "csv", "action": "api_key.created"}, HTTP_X_API_KEY=world["owner_raw"])
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows and {row["id"] for row in rows} == set(json_times)
    for row in rows:
        assert row["time"].endswith("Z"), row["time"]
        assert row["time"] == json_times[row["id"]]


def test_activity_log_export_writes_the_same_time(client: Any, world: dict[str, Any], api: Any) -> None:
    """The UI's "Export CSV" streams the same CSV as the API (docs/audit.md)."""
    _make_entries(api, world)
    client.force_login(world["owner"])
    r = client.get("/activity/export.csv", {"action": "api_key.created"})
    assert r.status_code == 200, r.status_code
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert rows
    assert all(row["time"].endswith("Z") for row in rows), [row["time"] for row in rows]
