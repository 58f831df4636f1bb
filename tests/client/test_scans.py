"""``tater.scans`` against the live server: upload (dict, file, bytes), list with filters, get."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from tater_client import Scan, ScanPage, TaterError, ValidationError

PAYLOAD = Path(__file__).resolve().parents[2] / "examples" / "scan-payload.json"


def scan(scanner: str = "nmap", started: str = "2026-01-15T09:30:00Z", *severities: str) -> dict:
    return {
        "scanner": scanner,
        "target": "10.0.0.0/24",
        "started_at": started,
        "findings": [{"title": f"finding {i}", "severity": s} for i, s in enumerate(severities)],
    }


def test_upload_the_example_file(tater, acme):
    uploaded = tater.scans.upload(PAYLOAD, tenant_id=acme.tenant.public_id, organization_id=acme.org.public_id)
    assert isinstance(uploaded, Scan)
    assert (uploaded.scanner, uploaded.target, uploaded.finding_count) == ("nmap", "10.20.0.0/24", 3)
    assert uploaded.severity_counts == {"info": 1, "low": 0, "medium": 1, "high": 1, "critical": 0}
    assert uploaded.organization_id == acme.org.public_id and uploaded.tenant_id == acme.tenant.public_id
    assert uploaded.uploaded_by.key_id == acme.owner_key.public_id
    assert uploaded.uploaded_by.user == acme.owner.email
    assert uploaded.uploaded_by.key_prefix == acme.owner_key.display_prefix
    assert uploaded.findings is not None and uploaded.findings[1].cve == "CVE-2018-15473"
    assert uploaded.findings[0].port == 443
    assert uploaded.started_at is not None and uploaded.started_at.isoformat() == "2026-01-15T09:30:00+00:00"
    # A path given as a string and raw bytes are sent as they are.
    assert tater.scans.upload(str(PAYLOAD)).finding_count == 3
    assert tater.scans.upload(PAYLOAD.read_bytes()).finding_count == 3


def test_an_agent_key_uploads(connect, acme):
    _, agent_raw = acme.key(key_type="agent", scopes=["scans:write"], name="collector")
    uploaded = connect(agent_raw).scans.upload(scan("rmm", "2026-02-01T00:00:00Z", "low"))
    assert uploaded.finding_count == 1 and uploaded.uploaded_by.key_id is not None


def test_list_filters_paging_and_get(tater):
    first = tater.scans.upload(scan("nmap", "2026-01-10T00:00:00Z", "high", "low"))
    tater.scans.upload(scan("nessus", "2026-02-10T00:00:00Z", "critical"))
    tater.scans.upload(scan("nmap", "2026-03-10T00:00:00Z", "info"))

    page = tater.scans.list()
    assert isinstance(page, ScanPage)
    assert page.total == 3 and all(s.findings is None for s in page.scans)
    assert [s.scanner for s in tater.scans.list(scanner="nessus").scans] == ["nessus"]
    assert {s.scanner for s in tater.scans.list(severity=["high", "critical"]).scans} == {"nmap", "nessus"}
    assert len(tater.scans.list(severity="critical").scans) == 1
    assert len(tater.scans.list(since=date(2026, 2, 1)).scans) == 2
    assert len(tater.scans.list(since="2026-02-01", until="2026-03-01").scans) == 1
    two = tater.scans.list(limit=2)
    assert (len(two.scans), two.total, two.limit) == (2, 3, 2)
    assert len(list(tater.scans.iter(page_size=1))) == 3

    detail = tater.scans.get(first.id)
    assert detail.id == first.id and detail.findings is not None
    assert sorted(f.severity for f in detail.findings) == ["high", "low"]


def test_invalid_upload_names_the_fields(tater):
    body = scan()
    del body["started_at"]
    body["findings"] = [{"title": "x", "severity": "apocalyptic"}]
    with pytest.raises(ValidationError) as caught:
        tater.scans.upload(body)
    error = caught.value
    assert (error.status, error.code) == (400, "VALIDATION_ERROR")
    assert {"started_at", "findings.0.severity"} <= set(error.fields)
    assert error.request_id


def test_an_oversized_upload_is_413(tater, settings):
    settings.TATER_MAX_UPLOAD_BYTES = 1000
    body = json.dumps(scan() | {"metadata": {"padding": "x" * 2000}}).encode()
    with pytest.raises(TaterError) as caught:
        tater.scans.upload(body)
    assert (caught.value.status, caught.value.code) == (413, "PAYLOAD_TOO_LARGE")
    assert caught.value.details == {"max_bytes": 1000}
