"""SPEC §3 (every API error in the catalog; status codes follow HTTP semantics): ``GET
audit-log/`` answered 200 JSON to ``Accept: application/xml``, where every other endpoint
(``GET scans/``, ``GET keys/``) answers 406 ``NOT_ACCEPTABLE`` in the catalog format. The JSON
page now honours ``Accept`` like them; the CSV export stays chosen by its documented
``?format=csv`` (docs/audit.md), and its errors stay JSON."""

from __future__ import annotations

import pytest

from orgs import services as org_services

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def _get(api, world, accept=None, **params):
    headers = {"HTTP_X_API_KEY": world["owner_raw"]}
    if accept is not None:
        headers["HTTP_ACCEPT"] = accept
    return api.get(URL, params, **headers)


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "text/csv"])
def test_an_accept_the_json_page_cannot_satisfy_is_406_as_on_scans(api, world, accept):
    scans = api.get("/api/v1/scans/", HTTP_X_API_KEY=world["owner_raw"], HTTP_ACCEPT=accept)
    assert scans.status_code == 406
    answer = _get(api, world, accept=accept)
    assert answer.status_code == 406, answer.content
    assert answer["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["error"] == "NOT_ACCEPTABLE"
    assert body["message"] == scans.json()["message"]
    assert "entries" not in body


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/*", "text/html, */*;q=0.8"])
def test_json_acceptable_answers_the_page(api, world, accept):
    answer = _get(api, world, accept=accept)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("application/json")
    assert "entries" in answer.json()


@pytest.mark.parametrize("accept", [None, "*/*", "text/csv", "application/json"])
def test_the_csv_export_is_still_chosen_by_format(api, world, accept):
    org_services.org_rename(organization=world["org1"], name="exported", actor=world["owner"])
    answer = _get(api, world, accept=accept, format="csv", action="organization.updated")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    lines = b"".join(answer.streaming_content).decode().strip().splitlines()
    assert len(lines) == 2 and "exported" in lines[1]


def test_errors_of_the_export_stay_json(api, world):
    answer = _get(api, world, accept="text/csv", format="csv", limit="10")
    assert answer.status_code == 400
    assert answer.json()["error"] == "VALIDATION_ERROR"
    answer = _get(api, world, accept="application/xml", format="xml")
    assert answer.status_code in (400, 406)
    assert answer["Content-Type"].startswith("application/json")
