"""Reads of scans; each starts from the organization it is given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from orgs.models import Organization
from scans.models import Scan, Severity


def scan_list(*, org: Organization, filters: dict[str, Any] | None = None) -> QuerySet[Scan]:
    """The org's scans, newest first. Filters: ``scanner`` (exact), ``severity`` (has at
    least one finding of that severity), ``since``/``until`` (on ``started_at``)."""
    filters = filters or {}
    scans = Scan.objects.filter(organization=org)
    if filters.get("scanner"):
        scans = scans.filter(scanner=filters["scanner"])
    severity = filters.get("severity")
    if severity:
        severities = severity if isinstance(severity, list | tuple) else [severity]
        condition = Q()
        for value in severities:
            if value in Severity.values:
                condition |= Q(**{f"count_{value}__gt": 0})
        scans = scans.filter(condition)
    since: datetime | None = filters.get("since")
    until: datetime | None = filters.get("until")
    if since is not None:
        scans = scans.filter(started_at__gte=since)
    if until is not None:
        scans = scans.filter(started_at__lt=until)
    return scans.select_related("uploaded_by_user").defer("findings")


def scan_get(*, org: Organization, public_id: str) -> Scan | None:
    """One scan of the org by its public id; None for another org's or an unknown id."""
    return Scan.objects.filter(organization=org, public_id=public_id).select_related("uploaded_by_user").first()
