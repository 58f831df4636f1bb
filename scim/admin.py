"""SCIM in the admin: tokens (no secret, no digest; a revoke action), and the tenants'
directories and groups, read-only (the identity provider and the tenant owner change them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest

from orgs import policy
from orgs.admin_filters import TenantFilter
from scim.models import ScimGroup, ScimToken, ScimUser
from scim.services import tokens as token_services


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScimToken)
class ScimTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "display_prefix",
        "name",
        "tenant",
        "status",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (TenantFilter,)
    search_fields = ("name", "public_id", "display_prefix", "tenant__name", "=tenant__public_id")
    list_select_related = ("tenant", "created_by")
    fields = ("public_id", "name", "tenant", "display_prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Tokens are read-only pages, but revoking one is a change: Django's change
        permission on tokens (an action without it is offered to whoever may view the list)."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Revoke selected SCIM tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ScimToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            operator = policy.Actor(user=request.user, tenant_pk=token.tenant_id, operator=True)
            token_services.scim_token_revoke(token=token, actor=operator)
            count += 1
        self.message_user(request, f"Revoked {count} SCIM token(s).", messages.SUCCESS)


@admin.register(ScimUser)
class ScimUserAdmin(ReadOnlyAdmin):
    list_display = ("user_name", "tenant", "user", "active", "external_id", "deleted_at", "updated_at")
    list_filter = (TenantFilter, "active")
    search_fields = ("user_name", "external_id", "public_id", "user__email", "tenant__name", "=tenant__public_id")
    list_select_related = ("tenant", "user")


@admin.register(ScimGroup)
class ScimGroupAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "tenant", "organization", "role", "updated_at")
    list_filter = (TenantFilter,)
    search_fields = ("display_name", "external_id", "public_id", "tenant__name", "=tenant__public_id")
    list_select_related = ("tenant", "organization")
