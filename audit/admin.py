"""The audit log in the admin: read-only. Nobody, superusers included, may add, change or
delete an entry here (the change page renders as a read-only view)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audit import registry
from audit.models import AuditChainHead, AuditEvent
from tater.admin_paging import EstimatedCountPaginator


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None  # no "delete selected"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActionFilter(admin.SimpleListFilter):
    """The registered actions: every action an entry can have, without reading the log (a
    field filter's SELECT DISTINCT scans the whole table on every page view)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in sorted(registry.ACTIONS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = self.value()
        return queryset.filter(action=value) if value else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "channel",
        "actor_email",
        "api_key_id",
        "target",
        "organization",
        "tenant",
        "ip",
        "request_id",
    )
    list_filter = ("channel", ActionFilter, ("created_at", admin.DateFieldListFilter))
    # Exact matches on ids keep searches on an index; emails and target names are partial.
    search_fields = ("actor_email", "=api_key_id", "=target_id", "target_repr", "=request_id", "=public_id")
    list_select_related = ("tenant", "organization")
    # No COUNT(*) over the whole table on every page view (SPEC §12).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = (
        "public_id",
        "created_at",
        "channel",
        "action",
        "actor_user",
        "actor_email",
        "api_key_id",
        "target_type",
        "target_id",
        "target_repr",
        "tenant",
        "organization",
        "changes",
        "ip",
        "user_agent",
        "request_id",
        "seq",
        "prev_hash",
        "entry_hash",
    )

    @admin.display(description="target")
    def target(self, obj: AuditEvent) -> str:
        if not obj.target_type:
            return ""
        return f"{obj.target_type} {obj.target_repr or obj.target_id}"


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("chain", "tenant", "last_seq", "last_hash", "updated_at")
    list_select_related = ("tenant",)  # nullable (the global chain): not joined by default
    search_fields = ("=chain",)
