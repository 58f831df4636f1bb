"""Scan pages: the current org's scans (filters, paging) and one scan's findings.
Reads go through scans.selectors, which start from the org, so another org's or
tenant's scan is a 404 like in the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from orgs.access import Access
from orgs.context_processors import optional_url
from orgs.ui import current_access, require_scope
from scans import selectors
from scans.models import Scan, Severity
from tater.api.fields import OUT_OF_RANGE, in_datetime_range

SCANS_PER_PAGE = 25
FINDINGS_PER_PAGE = 100
# Most severe first on the findings table.
SEVERITY_ORDER = {value: rank for rank, value in enumerate(reversed(Severity.values))}


class ScanFilterForm(forms.Form):
    """The list's filters. ``scanner`` offers the scanners this org has used; dates are
    whole days (``until`` includes its day)."""

    scanner = forms.ChoiceField(required=False, label="Scanner")
    severity = forms.ChoiceField(
        required=False,
        label="Findings of severity",
        choices=[("", "Any severity"), *reversed(Severity.choices)],
    )
    since = forms.DateField(required=False, label="Started from", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Started until", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, scanners: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scanner = self.fields["scanner"]
        assert isinstance(scanner, forms.ChoiceField)
        scanner.choices = [("", "All scanners"), *((name, name) for name in scanners)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("since", "until"):
            # Checked before filters() adds a day to "until", which overflows near year 9999.
            day = data.get(name)
            if day and not in_datetime_range(_midnight(day)):
                self.add_error(name, OUT_OF_RANGE)
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "Must be on or after the “Started from” date.")
        return data

    def filters(self) -> dict[str, Any]:
        """The selector's filters: aware datetimes, ``until`` exclusive (the next midnight)."""
        data = self.cleaned_data
        filters: dict[str, Any] = {}
        if data.get("scanner"):
            filters["scanner"] = data["scanner"]
        if data.get("severity"):
            filters["severity"] = data["severity"]
        if data.get("since"):
            filters["since"] = _midnight(data["since"])
        if data.get("until"):
            filters["until"] = _midnight(data["until"] + timedelta(days=1))
        return filters


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _scanners(access: Access) -> list[str]:
    """Distinct scanner names of the org (through the org-scoped selector)."""
    names = selectors.scan_list(org=access.organization()).order_by("scanner").values_list("scanner", flat=True)
    return list(names.distinct()[:200])


def _counts(scan: Scan) -> list[tuple[str, str, int]]:
    """(severity, label, count) for the severities present, most severe first."""
    counts = scan.severity_counts
    return [(value, label, counts[value]) for value, label in reversed(Severity.choices) if counts[value]]


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_GET
def scan_list(request: HttpRequest) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "scans:read")
    form = ScanFilterForm(request.GET or None, scanners=_scanners(access))
    # Only the form's own fields count as filters (not ?organizationId= or ?page=).
    filtered = any(request.GET.get(name) for name in ScanFilterForm.base_fields)
    valid = form.is_valid() if request.GET else True
    filters = form.filters() if request.GET and valid else {}
    page = None
    rows: list[dict[str, Any]] = []
    if valid:
        page = Paginator(selectors.scan_list(org=access.organization(), filters=filters), SCANS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        keys = selectors.visible_uploading_keys(access, list(page.object_list))
        rows = [
            {"scan": scan, "counts": _counts(scan), "key": keys.get(scan.uploaded_by_key_id)}
            for scan in page.object_list
        ]
    return render(
        request,
        "scans/scan_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filtered": filtered,
            # The empty state points at the upload snippets of the API docs page.
            "upload_docs_url": f"{optional_url('api_docs') or '/docs/api/'}#h-examples",
            "querystring": _without_page(request),
        },
        status=200 if valid else 400,
    )


@login_required
@require_GET
def scan_detail(request: HttpRequest, scan_id: str) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "scans:read")
    scan = selectors.scan_get(org=access.organization(), public_id=scan_id)
    if scan is None:
        raise Http404("Scan not found")
    findings = sorted(
        (f for f in scan.findings if isinstance(f, dict)),
        key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), len(SEVERITY_ORDER)),
    )
    page = Paginator(findings, FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
    keys = selectors.visible_uploading_keys(access, [scan])
    return render(
        request,
        "scans/scan_detail.html",
        {
            "scan": scan,
            "page": page,
            "total": len(findings),
            "counts": _counts(scan),
            "key": keys.get(scan.uploaded_by_key_id),
        },
    )
