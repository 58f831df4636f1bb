"""How keys follow changes made in the orgs app (its signals, ``orgs.signals``; orgs sits
below apikeys and cannot call it): a removed owner's keys are revoked, a tenant's new maximum
key lifetime caps the keys already issued. Each change is audited and saved through the
model, so every process's key check is told as after any other key change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apikeys import narrowing, services
from apikeys.models import ApiKey
from audit import registry as A
from audit.services import audit_record
from orgs import policy, signals
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership

OWNER_REMOVED = "owner removed"
LIFETIME_CAPPED = "tenant maximum key lifetime"


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


def keys_cap_lifetime(*, tenant: Tenant, days: int, actor: Any = None) -> int:
    """Bring every unrevoked key of ``tenant`` (deactivated ones too: reactivation must not
    bring back a lifetime the tenant forbids) that would outlive ``days`` from now to expire
    then: a new or shorter maximum holds for the keys already issued, counted from now (not
    from their creation, so no integration dies the moment the policy is saved). One
    ``api_key.updated`` entry per key; its owner gets the 60/30/7-day notices of the new
    expiry. Returns how many were capped."""
    limit = timezone.now() + timedelta(days=days)
    beyond = Q(expires_at__isnull=True) | Q(expires_at__gt=limit)
    keys = ApiKey.objects.select_for_update(of=("self",)).select_related("tenant", "organization")
    capped = list(keys.filter(beyond, tenant=tenant, revoked_at__isnull=True).order_by("pk"))
    user = _operator(actor, tenant).user
    for api_key in capped:
        old = api_key.expires_at
        api_key.expires_at, api_key.expiry_notice_days = limit, None
        api_key.save(update_fields=["expires_at", "expiry_notice_days", "updated_at"])  # the key check is told
        audit_record(
            action=A.API_KEY_UPDATED,
            tenant=tenant,
            organization=api_key.organization,
            target=api_key,
            changes={
                "expires_at": {"from": old.isoformat() if old else None, "to": limit.isoformat()},
                "reason": LIFETIME_CAPPED,
                "max_key_lifetime_days": days,
            },
            actor_user=user,
        )
    return len(capped)


def _on_key_lifetime_capped(*, tenant: Tenant, days: int, actor: Any, **kwargs: Any) -> None:
    keys_cap_lifetime(tenant=tenant, days=days, actor=actor)


def keys_lock(*, tenant: Tenant, owners: Any = None) -> None:
    """Lock the unrevoked keys of ``tenant`` (owned by ``owners``, user pks, when given) in
    key order, as a key change locks its key: first, before a change that may revoke or
    change them writes anything (``orgs.signals.keys_sweep_ahead`` says why)."""
    keys = ApiKey.objects.select_for_update(of=("self",)).filter(tenant=tenant, revoked_at__isnull=True)
    if owners is not None:
        keys = keys.filter(owner_id__in=list(owners))
    list(keys.order_by("pk").values_list("pk"))


def _on_keys_sweep_ahead(*, tenant: Tenant, user: Any, **kwargs: Any) -> None:
    keys_lock(tenant=tenant, owners=None if user is None else [user.pk])


def _on_key_vouch_ahead(*, key_pk: int, nothing_done: str = "nothing was sent", **kwargs: Any) -> None:
    """Lock the key an invitation is (re)sent or a role given through, as its revocation locks
    it, and refuse one revoked or deactivated since the request's key check
    (``orgs.signals.key_vouch_ahead``)."""
    narrowing.key_locked_usable(key_pk, nothing_done=nothing_done)


def connect_receivers() -> None:
    """Called once from ``ApiKeysConfig.ready``."""
    signals.keys_sweep_ahead.connect(_on_keys_sweep_ahead, dispatch_uid="apikeys.reactions.sweep_ahead")
    signals.member_left.connect(_on_member_left, dispatch_uid="apikeys.reactions.member_left")
    signals.key_vouch_ahead.connect(_on_key_vouch_ahead, dispatch_uid="apikeys.reactions.key_vouch_ahead")
    signals.key_lifetime_capped.connect(_on_key_lifetime_capped, dispatch_uid="apikeys.reactions.lifetime")
