"""Reads of scans; each starts from the organization it is given."""

from __future__ import annotations

from collections.abc import Iterable
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


def visible_uploading_keys(access: Any, scans: Iterable[Scan]) -> dict[str, Any]:
    """The keys that uploaded ``scans`` which the caller may see, by public id (the rule of
    ``apikeys.selectors``: ``keys:read``, members only their own, public keys none): whom
    a scan may name the uploading key's name and prefix to."""
    ids = {scan.uploaded_by_key_id for scan in scans if scan.uploaded_by_key_id}
    if not ids or "keys:read" not in access.scopes:
        return {}
    from apikeys.selectors import apikey_list

    return {key.public_id: key for key in apikey_list(access=access, filters={}).filter(public_id__in=ids)}
