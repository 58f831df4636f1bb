"""Tenant-scoped reads. Every selector starts from the tenant or org it is given, so a
query cannot forget the tenant filter."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from orgs.models import Organization, OrgMembership, Tenant, TenantMembership


def user_roles(*, user: Any, tenant: Tenant, organization: Organization | None) -> tuple[str | None, str | None]:
    """The user's (tenant role, org role); either may be None."""
    tenant_role = TenantMembership.objects.filter(tenant=tenant, user=user).values_list("role", flat=True).first()
    org_role = None
    if organization is not None:
        org_role = OrgMembership.objects.filter(organization=organization, user=user).values_list("role", flat=True).first()
    return tenant_role, org_role


def org_list_for_user(*, tenant: Tenant, user: Any) -> QuerySet[Organization]:
    """The tenant's orgs this user may reach: all of them for tenant owners/admins."""
    orgs = Organization.objects.filter(tenant=tenant)
    if TenantMembership.objects.filter(tenant=tenant, user=user).exists():
        return orgs
    return orgs.filter(memberships__user=user)


def orgs_reachable_by_user(*, user: Any) -> QuerySet[Organization]:
    """Every org of every tenant the user belongs to (for the org switcher)."""
    return (
        Organization.objects.filter(Q(tenant__memberships__user=user) | Q(memberships__user=user))
        .select_related("tenant")
        .distinct()
        .order_by("tenant__name", "name")
    )


def org_get(*, tenant: Tenant, public_id: str) -> Organization | None:
    return Organization.objects.filter(tenant=tenant, public_id=public_id).first()


def member_list(*, organization: Organization) -> QuerySet[OrgMembership]:
    return OrgMembership.objects.filter(organization=organization).select_related("user").order_by("user__email")


def tenants_for_user(*, user: Any) -> QuerySet[Tenant]:
    return Tenant.objects.filter(
        Q(memberships__user=user) | Q(organizations__memberships__user=user)
    ).distinct()
