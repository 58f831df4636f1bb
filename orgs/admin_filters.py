"""The admin's "By tenant" filter, at any number of tenants (SPEC §12): Django's own lists
every tenant in the sidebar of every page view; this one lists them while they are few, and
beyond that only the one chosen (the search box finds by tenant name or id)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from orgs.models import Tenant

LISTED_TENANTS = 30  # more than this: the sidebar names only the chosen one


class TenantFilter(admin.SimpleListFilter):
    title = "tenant"
    parameter_name = "tenant__id__exact"  # the parameter Django's own filter took: links kept

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tenants = list(Tenant.objects.order_by("name").values_list("pk", "name")[: LISTED_TENANTS + 1])
        if len(tenants) <= LISTED_TENANTS:
            return [(str(pk), name) for pk, name in tenants]
        chosen = self._chosen()
        named = Tenant.objects.filter(pk=chosen).values_list("pk", "name") if chosen is not None else []
        return [(str(pk), name) for pk, name in named]

    def _chosen(self) -> int | None:
        """The tenant's row id, or None for anything naming none (``str.isdigit`` also holds for
        "²", which ``int`` refuses, and a number past the column's range is a database error)."""
        value = str(self.value() or "")
        return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() is None:
            return queryset
        chosen = self._chosen()
        return queryset.filter(tenant_id=chosen) if chosen is not None else queryset.none()
