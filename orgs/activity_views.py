"""The Activity Log page (/activity/) and its CSV export: the audit log (audit.selectors) of
the org the page resolves (orgs.ui), hence here rather than in audit, which sits below orgs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from audit import selectors
from audit.export import csv_response
from audit.forms import ActivityFilterForm
from orgs.ui import current_access, require_scope
from tater.exceptions import InvalidInput

PAGE_SIZE = 50


def _filter_query(request: HttpRequest) -> str:
    """The filter part of the query string, for the export and paging links."""
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


@login_required
@require_GET
def activity_log(request: HttpRequest) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "audit:read")  # viewers get the 403 page
    scope = selectors.scope_for(access)
    form = ActivityFilterForm(request.GET)
    filters = form.filters_or_none()
    rows: list[dict[str, Any]] = []
    next_cursor, newer_cursor, cursor_error = None, None, None
    if filters is not None:
        cursor = request.GET.get("cursor")
        try:
            rows, next_cursor = selectors.audit_page(scope=scope, filters=filters, cursor=cursor, limit=PAGE_SIZE)
            newer_cursor = selectors.newer_cursor(scope=scope, filters=filters, cursor=cursor, limit=PAGE_SIZE)
        except InvalidInput as exc:
            cursor_error = exc.message
    query = _filter_query(request)
    return render(
        request,
        "audit/activity.html",
        {
            "form": form,
            "entries": [selectors.entry_data(row, scope) for row in rows],
            "next_cursor": next_cursor,
            "newer_cursor": newer_cursor,  # None on the first page, "" when the page before is it
            "paged": bool(request.GET.get("cursor")),
            "cursor_error": cursor_error,
            "filter_errors": filters is None,
            "query": query,
            "filtered": any(request.GET.get(name) for name in form.fields),
            "export_url": f"{reverse('activity_log_export')}?{query}" if query else reverse("activity_log_export"),
            "org_name": access.org.name if access.org else "",
            "tenant_wide": scope.include_tenant_level,
        },
    )


@login_required
@require_GET
def activity_log_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    access = current_access(request)
    require_scope(access, "audit:read")
    form = ActivityFilterForm(request.GET)
    filters = form.filters_or_none()
    if filters is None:
        # The page itself shows what is wrong with the filters.
        return redirect(f"{reverse('activity_log')}?{_filter_query(request)}")
    scope = selectors.scope_for(access)
    return csv_response(selectors.audit_export(scope=scope, filters=filters), scope)
