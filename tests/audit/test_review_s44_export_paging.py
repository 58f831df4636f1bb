"""`GET audit-log/?format=csv` (SPEC §3, §5, §7) streams every matching entry: it has no page.
A `limit` or `cursor` sent with it was silently ignored (`limit=10` gave the whole log, a
`limit=5000` that the list refuses was accepted, a forged cursor too). They are a 400
`VALIDATION_ERROR` naming the parameter, as every query value the API does not apply is."""

from __future__ import annotations

import pytest

from orgs import services as org_services

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def _get(api, world, **params):
    return api.get(URL, params, HTTP_X_API_KEY=world["owner_raw"])


@pytest.mark.parametrize("params", [{"limit": "10"}, {"limit": "5000"}, {"cursor": "forged"}])
def test_paging_parameters_with_the_csv_export_are_refused(api, world, params):
    r = _get(api, world, format="csv", **params)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    (name,) = params
    assert name in body["details"]["fields"]


def test_a_real_cursor_with_the_csv_export_is_refused_too(api, world):
    for n in range(3):
        org_services.org_rename(organization=world["org1"], name=f"n{n}", actor=world["owner"])
    cursor = _get(api, world, limit=1).json()["next_cursor"]
    assert cursor
    r = _get(api, world, format="csv", cursor=cursor)
    assert r.status_code == 400
    assert "cursor" in r.json()["details"]["fields"]


def test_the_export_and_the_json_list_still_work(api, world):
    org_services.org_rename(organization=world["org1"], name="exported", actor=world["owner"])
    listed = _get(api, world, action="organization.updated", limit=500).json()["entries"]
    export = _get(api, world, action="organization.updated", format="csv")
    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().strip().splitlines()
    assert len(lines) == 1 + len(listed)
    assert _get(api, world, format="json", limit=5).status_code == 200
