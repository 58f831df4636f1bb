"""Operator admin for tenants, organizations and memberships. Writes go through the
same transaction as an audit entry (channel ``admin``, set by the middleware for /admin/)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpRequest

from audit import registry as A
from audit.services import audit_record
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership


def _changes(form: ModelForm) -> dict[str, Any]:
    return {name: {"from": form.initial.get(name), "to": form.cleaned_data.get(name)} for name in form.changed_data}


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def simple(value: Any) -> Any:
        return value if isinstance(value, str | int | float | bool | type(None)) else str(value)

    return {k: {"from": simple(v["from"]), "to": simple(v["to"])} for k, v in changes.items()}


class AuditedAdmin(admin.ModelAdmin):
    """Save and delete in one transaction with their audit entry and cache invalidation."""

    created_action = updated_action = deleted_action = ""

    def audit_scope(self, obj: Any) -> tuple[Tenant | None, Organization | None]:
        raise NotImplementedError

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        tenant, org = self.audit_scope(obj)
        changes = _jsonable(_changes(form))
        if change and not changes:
            return
        audit_record(
            action=self.updated_action if change else self.created_action,
            tenant=tenant,
            organization=org,
            target=obj,
            changes=changes,
            actor_user=request.user,
        )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        tenant, org = self.audit_scope(obj)
        audit_record(action=self.deleted_action, tenant=tenant, organization=org, target=obj, actor_user=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class OrganizationInline(admin.TabularInline):
    model = Organization
    fields = ("public_id", "name", "slug", "created_at")
    readonly_fields = ("public_id", "name", "slug", "created_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Tenant)
class TenantAdmin(AuditedAdmin):
    list_display = ("name", "public_id", "plan", "require_2fa", "require_sso", "max_key_lifetime_days", "created_at")
    list_filter = ("plan", "require_2fa", "require_sso", "key_creation_policy")
    search_fields = ("name", "public_id")
    readonly_fields = ("public_id", "created_at")
    inlines = [OrganizationInline]
    created_action, updated_action = A.TENANT_CREATED, A.TENANT_UPDATED

    def audit_scope(self, obj: Tenant) -> tuple[Tenant | None, Organization | None]:
        return obj, None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tenants are closed by support, not deleted from the admin


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("name", "public_id", "tenant", "slug", "created_at")
    list_filter = ("tenant__plan",)
    search_fields = ("name", "public_id", "slug", "tenant__name", "tenant__public_id")
    readonly_fields = ("public_id", "created_at")
    list_select_related = ("tenant",)
    created_action, updated_action = A.ORG_CREATED, A.ORG_UPDATED

    def audit_scope(self, obj: Organization) -> tuple[Tenant | None, Organization | None]:
        return obj.tenant, obj

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipAdmin(AuditedAdmin):
    created_action, updated_action, deleted_action = A.MEMBER_ADDED, A.MEMBER_ROLE_CHANGED, A.MEMBER_REMOVED


@admin.register(TenantMembership)
class TenantMembershipAdmin(MembershipAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "tenant__name", "tenant__public_id")
    raw_id_fields = ("user",)
    list_select_related = ("user", "tenant")

    def audit_scope(self, obj: TenantMembership) -> tuple[Tenant | None, Organization | None]:
        return obj.tenant, None


@admin.register(OrgMembership)
class OrgMembershipAdmin(MembershipAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organization__name", "organization__public_id")
    raw_id_fields = ("user",)
    list_select_related = ("user", "organization__tenant")

    def audit_scope(self, obj: OrgMembership) -> tuple[Tenant | None, Organization | None]:
        return obj.organization.tenant, obj.organization
