"""How keys follow changes made in the orgs app (its signals, ``orgs.signals``; orgs sits
below apikeys and cannot call it). Each reaction goes through the key services, so every
revocation is audited and reaches every process's key check like any other."""

from __future__ import annotations

from typing import Any

from apikeys import services
from apikeys.models import ApiKey
from orgs import policy, signals
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership

OWNER_REMOVED = "owner removed"


def _operator(actor: Any, tenant: Tenant) -> policy.Actor:
    """The consequence of ``actor``'s change, done for them as the system (the remover may
    not reach the keys: an org-bound key, a tenant admin and an unbound key, SCIM), and
    recorded under their name."""
    user = actor.user if isinstance(actor, policy.Actor) else actor
    return policy.Actor(user=user, tenant_pk=tenant.pk, operator=True)


def keys_revoke_unreached(
    *, tenant: Tenant, user: Any, organization: Organization | None = None, actor: Any = None
) -> int:
    """Revoke ``user``'s keys in ``tenant`` (bound to ``organization`` only, when given) that
    their roles no longer reach: removal kills the key, for good (SPEC §2), so re-adding the
    person later never revives a key that may have leaked meanwhile. A tenant role reaches
    every org (a demoted owner's unbound key is narrowed, not killed); an org membership
    reaches that org. Returns how many were revoked."""
    if TenantMembership.objects.filter(tenant=tenant, user=user).exists():
        return 0
    keys = ApiKey.objects.filter(tenant=tenant, owner=user, revoked_at__isnull=True)
    if organization is not None:
        keys = keys.filter(organization=organization)
    held = OrgMembership.objects.filter(user=user, organization__tenant=tenant).values("organization_id")
    doomed = list(keys.exclude(organization__in=held).order_by("pk"))
    who = _operator(actor, tenant)
    for api_key in doomed:
        services.apikey_revoke(api_key=api_key, actor=who, reason=OWNER_REMOVED)
    return len(doomed)


def _on_member_left(*, tenant: Tenant, user: Any, organization: Organization | None, actor: Any, **kwargs: Any) -> None:
    keys_revoke_unreached(tenant=tenant, user=user, organization=organization, actor=actor)


def connect_receivers() -> None:
    """Called once from ``ApiKeysConfig.ready``."""
    signals.member_left.connect(_on_member_left, dispatch_uid="apikeys.reactions.member_left")
