"""Reads of a tenant's SCIM directory. Every selector starts from the tenant, so one
tenant's token never reaches another tenant's users or groups (they are a 404)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from orgs import policy
from orgs.models import OrgMembership, Tenant, TenantMembership
from scim import tokens
from scim.app_settings import app_settings
from scim.models import ScimGroup, ScimGroupMember, ScimToken, ScimUser

# --- Tokens -----------------------------------------------------------------------------


def scim_token_authenticate(raw: str) -> ScimToken | None:
    """The token a request presents, if it exists (revoked ones included: the caller tells
    them apart). Looked up by the SHA-256 digest of the whole secret."""
    if not tokens.is_well_formed(raw):
        return None
    token = ScimToken.objects.select_related("tenant").filter(digest=tokens.digest_of(raw)).first()
    if token is not None and token.revoked_at is None:
        now = timezone.now()
        # At most one write per interval, not one per request.
        if token.last_used_at is None or token.last_used_at < now - timedelta(seconds=app_settings.LAST_USED_INTERVAL):
            ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def scim_token_list(*, tenant: Tenant, actor: policy.Actor) -> QuerySet[ScimToken]:
    """The tenant's SCIM tokens, for its owners (orgs.policy.can_manage_scim_tokens)."""
    policy.require(policy.can_manage_scim_tokens(actor, issuing=False))
    return ScimToken.objects.filter(tenant=tenant).select_related("created_by")


def scim_token_get(*, tenant: Tenant, public_id: str) -> ScimToken | None:
    return ScimToken.objects.filter(tenant=tenant, public_id=public_id).first()


# --- Users ------------------------------------------------------------------------------


def tenant_members(*, tenant: Tenant | int) -> QuerySet[Any]:
    """Accounts that belong to the tenant through a role: tenant owners/admins and members
    of its organizations."""
    from django.contrib.auth import get_user_model

    tenant_pk = tenant if isinstance(tenant, int) else tenant.pk
    return get_user_model().objects.filter(
        Q(pk__in=TenantMembership.objects.filter(tenant_id=tenant_pk).values("user_id"))
        | Q(pk__in=OrgMembership.objects.filter(organization__tenant_id=tenant_pk).values("user_id"))
    )


def scim_users(*, tenant: Tenant) -> QuerySet[ScimUser]:
    """The tenant's directory (deleted identities are gone from it)."""
    return ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True)


def scim_user_get(*, tenant: Tenant, public_id: str) -> ScimUser | None:
    """One User of the tenant by its SCIM id; None (a 404) for anything else."""
    return scim_users(tenant=tenant).select_related("user").filter(public_id=public_id).first()


def belongs_to_tenant(*, tenant: Tenant | int, user: Any) -> bool:
    """Does the account belong to the tenant: a role there, or the tenant's directory holds
    it (now, or before a DELETE)?"""
    tenant_pk = tenant if isinstance(tenant, int) else tenant.pk
    return (
        tenant_members(tenant=tenant_pk).filter(pk=user.pk).exists()
        or ScimUser.objects.filter(tenant_id=tenant_pk, user=user).exists()
    )


def other_tenants_hold(*, tenant: Tenant | int, user: Any) -> bool:
    """Does any other tenant hold the account (a role there, or a User of its directory that
    is not deprovisioned)? Then this tenant's directory changes only what is its own: never
    the account itself. A User another directory deprovisioned holds nothing: once every
    tenant let the person go, the last deprovisioning ends their sessions (SPEC §13)."""
    return _held(user=user, besides=tenant if isinstance(tenant, int) else tenant.pk)


def any_tenant_holds(*, user: Any) -> bool:
    """Does any tenant hold the account (as ``other_tenants_hold`` counts it)? None does once
    the last one let the person go, by its directory or by hand."""
    return _held(user=user, besides=None)


def _held(*, user: Any, besides: int | None) -> bool:
    tenant_roles = TenantMembership.objects.filter(user=user)
    org_roles = OrgMembership.objects.filter(user=user)
    assigned = ScimUser.objects.filter(user=user, deleted_at__isnull=True).exclude(active=False)
    if besides is not None:
        tenant_roles = tenant_roles.exclude(tenant_id=besides)
        org_roles = org_roles.exclude(organization__tenant_id=besides)
        assigned = assigned.exclude(tenant_id=besides)
    return tenant_roles.exists() or org_roles.exists() or assigned.exists()


# --- Groups -----------------------------------------------------------------------------


def scim_groups(*, tenant: Tenant) -> QuerySet[ScimGroup]:
    return ScimGroup.objects.filter(tenant=tenant).select_related("organization")


def scim_groups_counted(*, tenant: Tenant) -> QuerySet[ScimGroup]:
    """The tenant's groups, each with ``member_count`` (in the same query: list pages)."""
    return scim_groups(tenant=tenant).annotate(member_count=Count("memberships"))


def scim_group_get(*, tenant: Tenant, public_id: str) -> ScimGroup | None:
    return scim_groups(tenant=tenant).filter(public_id=public_id).first()


def group_member_ids(*, group: ScimGroup) -> list[str]:
    return list(
        ScimGroupMember.objects.filter(group=group).order_by("id").values_list("identity__public_id", flat=True)
    )


def group_member_ids_many(*, groups: list[ScimGroup]) -> dict[int, list[str]]:
    """Member ids of several groups in one query (list pages)."""
    found: dict[int, list[str]] = {g.pk: [] for g in groups}
    rows = (
        ScimGroupMember.objects.filter(group__in=groups).order_by("id").values_list("group_id", "identity__public_id")
    )
    for group_pk, public_id in rows:
        found[group_pk].append(public_id)
    return found
