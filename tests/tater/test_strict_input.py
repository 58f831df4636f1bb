"""Bad input is refused, not coerced (fuzzing found these)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_org_name_must_be_a_string(api, world):
    api.force_login(world["owner"])
    r = api.patch(f"/api/v1/organizations/{world['org1'].public_id}/", {"name": 12345}, format="json")
    assert r.status_code == 400 and "name" in r.json()["details"]["fields"]
    world["org1"].refresh_from_db()
    assert world["org1"].name != "12345"


@pytest.mark.django_db
def test_scan_list_blank_filter_rejected(api, world):
    r = api.get("/api/v1/scans/?until=", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400 and "until" in r.json()["details"]["fields"]


@pytest.mark.django_db
def test_scan_finding_reference_must_be_text(api, world):
    body = {
        "scanner": "nmap",
        "target": "10.0.0.1",
        "started_at": "2026-01-01T00:00:00Z",
        "findings": [{"title": "x", "severity": "low", "references": [42]}],
    }
    r = api.post("/api/v1/scans/upload", body, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/keys/", "/api/v1/scans/"])
def test_huge_offset_is_a_validation_error(api, world, url):
    r = api.get(url, {"offset": 10**19}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400 and "offset" in r.json()["details"]["fields"]


@pytest.mark.django_db
def test_huge_member_offset_is_a_validation_error(api, world):
    api.force_login(world["owner"])
    r = api.get(f"/api/v1/organizations/{world['org1'].public_id}/members/", {"offset": 10**19})
    assert r.status_code == 400 and "offset" in r.json()["details"]["fields"]
