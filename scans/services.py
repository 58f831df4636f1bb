"""Writes to scans, each with its audit entry."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.db import transaction

from audit import registry as A
from audit.services import audit_record
from orgs.models import Organization, Tenant
from scans.models import Scan, Severity
from tater.exceptions import InvalidInput


@transaction.atomic
def scan_upload(
    *,
    organization: Organization,
    scanner: str,
    target: str,
    started_at: datetime,
    finished_at: datetime | None = None,
    findings: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    uploaded_by_user: Any | None = None,
    uploaded_by_key_id: str = "",
    key_prefix: str = "",
) -> Scan:
    """Store one scan in ``organization`` and record who sent it (user and, via the API, key
    and the display prefix of the secret presented: the old one during a rotation's grace).

    ``findings`` are dicts with at least ``title`` and ``severity``; the per-severity counts
    are computed here so the list can filter on them.
    """
    findings = list(findings or [])
    if finished_at is not None and finished_at < started_at:
        raise InvalidInput("finished_at must not be before started_at", field="finished_at")
    counts = Counter(str(f.get("severity", "")) for f in findings)
    unknown = set(counts) - set(Severity.values)
    if unknown:
        raise InvalidInput(f"Unknown severity {sorted(unknown)[0]!r}", field="findings")
    scan = Scan.objects.create(
        tenant_id=organization.tenant_id,
        organization=organization,
        scanner=scanner,
        target=target,
        started_at=started_at,
        finished_at=finished_at,
        findings=findings,
        **{f"count_{severity}": counts.get(severity, 0) for severity in Severity.values},
        uploaded_by_user=uploaded_by_user,
        uploaded_by_key_id=uploaded_by_key_id or "",
        key_prefix=key_prefix if uploaded_by_key_id else "",
    )
    audit_record(
        action=A.SCAN_UPLOADED,
        tenant=Tenant(pk=organization.tenant_id),
        organization=organization,
        target=scan,
        changes={
            "scanner": {"to": scanner},
            "target": {"to": target},
            "findings": {"to": len(findings)},
            "severity_counts": {"to": scan.severity_counts},
            **({"metadata": {"to": metadata}} if metadata else {}),
        },
        actor_user=uploaded_by_user,
    )
    return scan
