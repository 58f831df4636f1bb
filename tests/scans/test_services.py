from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audit.models import AuditEvent
from scans import selectors, services
from tater.exceptions import InvalidInput

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.django_db
def test_scan_upload_counts_and_audits(world):
    scan = services.scan_upload(
        organization=world["org1"],
        scanner="zap",
        target="https://app",
        started_at=T0,
        findings=[{"title": "a", "severity": "critical"}, {"title": "b", "severity": "critical"}],
        uploaded_by_user=world["member"],
        uploaded_by_key_id="key-x",
    )
    assert scan.severity_counts == {"info": 0, "low": 0, "medium": 0, "high": 0, "critical": 2}
    event = AuditEvent.objects.get(action="scan.uploaded")
    assert (event.target_id, event.tenant_id, event.actor_user_id) == (
        scan.public_id,
        world["tenant"].pk,
        world["member"].pk,
    )
    assert event.changes["severity_counts"]["to"]["critical"] == 2


@pytest.mark.django_db
def test_scan_upload_rejects_bad_times_and_severities(world):
    with pytest.raises(InvalidInput) as exc:
        services.scan_upload(
            organization=world["org1"],
            scanner="x",
            target="y",
            started_at=T0,
            finished_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
    assert exc.value.field == "finished_at"
    with pytest.raises(InvalidInput):
        services.scan_upload(
            organization=world["org1"],
            scanner="x",
            target="y",
            started_at=T0,
            findings=[{"title": "a", "severity": "nope"}],
        )


@pytest.mark.django_db
def test_selectors_start_from_the_org(world):
    scan = services.scan_upload(organization=world["org1"], scanner="x", target="y", started_at=T0)
    assert selectors.scan_get(org=world["org2"], public_id=scan.public_id) is None
    assert selectors.scan_get(org=world["org1"], public_id=scan.public_id) == scan
    assert list(selectors.scan_list(org=world["other_org"])) == []
