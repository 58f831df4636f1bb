"""A scan's metadata cannot break its tenant's audit chain (SPEC §7: tamper-evident,
append-only; README "Audit log": ``verify_audit`` reports the first broken link).

The upload's ``metadata`` is kept in its ``scan.uploaded`` entry. A whole number written as a
float beyond 2**53 (``1e23``, a counter a collector serialises as a double) was hashed as the
float's binary value (99999999999999991611392) while PostgreSQL's jsonb hands it back as the
decimal the JSON said (100000000000000000000000): ``verify_audit`` then reported that entry
``edited`` and stopped there, so any member with ``scans:write`` (or an agent key) could make
the chain unverifiable, and hide whatever was tampered with after it.
"""

from __future__ import annotations

import json

import pytest

from orgs import services as org_services
from tests.audit.conftest import run_command

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/scans/upload"


def upload(api, raw, metadata_json):
    body = (
        '{"scanner": "nmap", "target": "10.0.0.0/24", "started_at": "2026-01-15T09:30:00Z", '
        f'"findings": [], "metadata": {metadata_json}}}'
    )
    return api.generic("POST", UPLOAD, body, content_type="application/json", HTTP_X_API_KEY=raw)


@pytest.mark.parametrize(
    "metadata_json",
    [
        '{"bytes": 1e23}',
        '{"max": 1.7976931348623157e308, "nested": [{"n": -4.5e40}]}',
        '{"n": 123456789012345680000.0}',
    ],
)
def test_large_whole_floats_in_metadata_keep_the_chain_verifiable(api, world, metadata_json):
    response = upload(api, world["member_raw"], metadata_json)
    assert response.status_code == 201, response.content
    # A later change: the chain goes on, and stays checkable past the upload.
    org_services.org_rename(organization=world["org1"], name="Renamed after the upload", actor=world["owner"])

    code, report = run_command("verify_audit", "--tenant", world["tenant"].public_id)

    assert code == 0, report
    assert report["chains"][0]["problem"] is None


def test_the_entry_reads_the_numbers_the_upload_sent(api, world):
    assert upload(api, world["member_raw"], '{"bytes": 1e23, "ratio": 0.5, "count": 3}').status_code == 201
    entries = api.get("/api/v1/audit-log/", {"action": "scan.uploaded"}, HTTP_X_API_KEY=world["owner_raw"]).json()
    recorded = entries["entries"][0]["changes"]["metadata"]["to"]
    # The same numbers (compared as numbers), whichever database kept them.
    assert json.loads(json.dumps(recorded)) == {"bytes": 10**23, "ratio": 0.5, "count": 3}
