"""API keys in the admin: list, filters and a revoke action. The digest and the secret
are never shown or editable; keys are created where the secret can be shown once (UI,
API, ``create_api_key``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apikeys import services
from apikeys.models import STATUS_LABELS, ApiKey, KeyStatus
from orgs import policy
from orgs.admin_filters import TenantFilter
from tater.admin_paging import EstimatedCountPaginator


class StatusFilter(admin.SimpleListFilter):
    """The API's status values in the query (``?status=inactive``), the UI's words on screen
    (README "The web app": a switched-off key is *Deactivated*)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        order = (KeyStatus.ACTIVE, KeyStatus.INACTIVE, KeyStatus.REVOKED, KeyStatus.EXPIRED)
        return [(status.value, STATUS_LABELS[status]) for status in order]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        from django.utils import timezone

        now = timezone.now()
        value = self.value()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if value == "inactive":
            return queryset.filter(revoked_at__isnull=True, is_active=False)
        if value == "active":
            return queryset.filter(revoked_at__isnull=True, is_active=True).exclude(expires_at__lte=now)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "display_prefix",
        "name",
        "type",
        "owner",
        "organization",
        "status_label",
        "last_used_at",
        "expires_at",
    )
    list_filter = (StatusFilter, "type", TenantFilter)
    search_fields = (
        "name",
        "public_id",
        "display_prefix",
        "owner__email",
        "organization__name",
        "tenant__name",
        "=tenant__public_id",
    )
    list_select_related = ("owner", "organization", "tenant")
    # No COUNT(*) over the whole table on every page view (SPEC §12).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = (
        "public_id",
        "name",
        "type",
        "display_prefix",
        "tenant",
        "organization",
        "owner",
        "creator",
        "scopes",
        "expires_at",
        "is_active",
        "revoked_at",
        "previous_expires_at",
        "last_used_at",
        "last_used_ip",
        "allowed_ips",
        "rate_limit",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ["revoke_keys"]

    @admin.display(description="status")
    def status_label(self, obj: ApiKey) -> str:
        return obj.status_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the record stays for the audit trail

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Every field is read-only: a key changes only through its services (the revoke
        action here, the owners' and admins' pages, the API), audited; saving writes nothing."""

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> Any:
        # Nothing on the page can be saved: no Save buttons (the change permission stays,
        # for the revoke action), and a posted page says so rather than "changed successfully".
        hidden = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **hidden})

    def response_change(self, request: HttpRequest, obj: Any) -> Any:
        self.message_user(
            request,
            "Nothing was saved: a key's fields are read-only here. Revoke it from the list "
            "(Revoke selected keys); its owner and admins change it on its page or through the API.",
            messages.WARNING,
        )
        return self.response_post_save_change(request, obj)

    # An action is a change: without declared permissions Django offers it to whoever may
    # merely view the list.
    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            # Staff act as operators (channel admin): any tenant's key, never its secret.
            operator = policy.Actor(user=request.user, tenant_pk=api_key.tenant_id, operator=True)
            services.apikey_revoke(api_key=api_key, actor=operator)
            count += 1
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)
