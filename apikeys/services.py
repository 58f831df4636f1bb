"""Every write to API keys. Each service asks the policy (orgs.policy) whether the actor
may do it, checks its rules, writes the row and the audit entry in one transaction, and
drops the verified-key cache for the key.

``actor`` is an ``orgs.policy.Actor`` (the API and UI build one with the credential the
call came through); a plain user is taken as that user's signed-in session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import EllipsisType
from typing import Any

from django.db import transaction
from django.utils import timezone

from apikeys import keygen, narrowing, uses
from apikeys.inputs import (
    clean_allowed_ips,
    clean_metadata,
    clean_name,
    clean_rate_limit,
    clean_usage_limit,
    same_json,
)
from apikeys.limits import carry_over
from apikeys.models import ApiKey, KeyType, RetiredSecret
from audit import registry as A
from audit.services import audit_record
from orgs import key_invitations, policy
from orgs.models import Invitation, Organization, Tenant
from orgs.selectors import as_actor, as_actor_locked
from tater import scopes as S
from tater.api.fields import OUT_OF_RANGE, in_datetime_range
from tater.exceptions import Conflict, InvalidInput, NotPermitted, ObjectNotFound

MAX_GRACE_SECONDS = 7 * 24 * 3600
DEFAULT_GRACE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class IssuedKey:
    """A key together with its secret; the secret exists only in this object."""

    api_key: ApiKey
    key: str


def _capped_expiry(tenant: Tenant, expires_at: datetime | None, now: datetime) -> datetime | None:
    """``expires_at``, brought within the tenant's maximum key lifetime from ``now``."""
    if not tenant.max_key_lifetime_days:
        return expires_at
    limit = now + timedelta(days=tenant.max_key_lifetime_days)
    return limit if expires_at is None or expires_at > limit else expires_at


def _check_expiry(tenant: Tenant, expires_at: datetime | None) -> None:
    # The API's range on every channel (a command's --expires-at too): near year 9999 a
    # grace period, an expiry notice or storing it in UTC overflows.
    if expires_at is not None and not in_datetime_range(expires_at):
        raise InvalidInput(f"Expiry: {OUT_OF_RANGE}", field="expires_at")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("Expiry must be in the future", field="expires_at")
    if tenant.max_key_lifetime_days:
        limit = now + timedelta(days=tenant.max_key_lifetime_days)
        if expires_at is None:
            raise InvalidInput(
                f"This tenant requires keys to expire within {tenant.max_key_lifetime_days} days", field="expires_at"
            )
        if expires_at > limit + timedelta(minutes=1):
            raise InvalidInput(
                f"Expiry exceeds this tenant's maximum key lifetime of {tenant.max_key_lifetime_days} days",
                field="expires_at",
            )


def _require_reach(actor: policy.Actor, api_key: ApiKey) -> None:
    # The selectors already answer 404 outside the actor's reach; services check again so
    # no channel can act on a key it cannot see.
    if not policy.key_reach(actor, org_pk=api_key.organization_id).contains(api_key):
        raise ObjectNotFound("API key not found")


def _require_usable_scopes(key_type: str, specs: list[str]) -> None:
    """Public keys read business data only (SPEC §2a), agent keys only upload scans (SPEC
    §2, §5: the one business endpoint that admits them): refuse what they could never use,
    naming it, on every channel.

    A public key's ``*:read`` stays accepted: the preset means "whatever this key may read"."""
    if key_type == KeyType.PUBLIC:
        if not S.is_read_only(specs):
            raise InvalidInput("Public keys may carry read scopes only", field="scopes")
        usable, what = policy.PUBLIC_KEY_SCOPES, "Public keys read business data only"
        specs = [spec for spec in specs if spec != S.READ_ONLY]
    elif key_type == KeyType.AGENT:
        usable, what = policy.AGENT_KEY_SCOPES, "Agent keys only upload scans"
    else:
        return
    unusable = sorted(S.expand(specs) - usable)
    if unusable:
        allowed = ", ".join(sorted(usable))
        raise InvalidInput(f"{what} ({allowed}); not {', '.join(unusable)}", field="scopes")


def _require_within(requested: frozenset[str], allowed: frozenset[str]) -> None:
    beyond = requested - allowed
    if beyond:
        raise NotPermitted(
            "A key cannot have more permissions than its creator",
            details={"required_permissions": sorted(beyond), "current_permissions": sorted(allowed)},
        )


@transaction.atomic
def apikey_create(
    *,
    creator: Any,
    tenant: Tenant,
    organization: Organization | None,
    name: str,
    key_type: str = KeyType.STANDARD,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    allowed_ips: Iterable[str] = (),
    rate_limit: str = "",
    metadata: dict[str, Any] | None = None,
    usage_limit: int | None = None,
    usage_refill: str = "",
) -> IssuedKey:
    """Create a key owned by the acting user. ``scopes`` None: the creator's own effective
    permissions (narrowed by the calling key's, through an API key)."""
    # Queued behind a concurrent removal of the creator or a new maximum key lifetime: both
    # sweep the tenant's keys, which a key created from roles and a policy read before them
    # would outlive.
    tenant, actor = as_actor_locked(creator, tenant)
    name = clean_name(name)
    if key_type not in KeyType.values:
        raise InvalidInput(f"Type must be one of {', '.join(KeyType.values)}", field="type")
    if organization is not None and organization.tenant_id != tenant.pk:
        raise NotPermitted("Organization belongs to another tenant")
    org_pk = organization.pk if organization is not None else None
    policy.require(
        policy.can_create_key(actor, org_pk=org_pk, key_type=key_type, creation_policy=tenant.key_creation_policy)
    )
    if organization is None and key_type != KeyType.STANDARD:
        raise InvalidInput(f"{key_type} keys must be bound to an organization", field="type")
    if scopes is None:
        scopes = policy.default_key_scopes(actor, org_pk=org_pk, key_type=key_type)
    try:
        scope_specs = S.validate_specs(scopes)
    except S.InvalidScope as exc:
        raise InvalidInput(str(exc), field="scopes") from None
    _require_usable_scopes(key_type, scope_specs)
    _require_within(S.expand(scope_specs), policy.key_creation_scopes(actor, org_pk=org_pk))
    caller = narrowing.caller_locked(actor)  # revoked meanwhile: refused; after: waits for this key
    if expires_at is None and (caller is None or caller.expires_at is None):
        # Left out under a tenant's maximum key lifetime: the longest it allows, on every
        # channel (API, credential exchange, command), as a rotation does; not a 400.
        expires_at = _capped_expiry(tenant, None, timezone.now())
    # Through a key, the expiry left out is the calling key's: a lifetime cap judges that one.
    _check_expiry(tenant, expires_at or (caller.expires_at if caller is not None else None))
    ips = clean_allowed_ips(allowed_ips)
    rate_limit = clean_rate_limit(rate_limit)
    metadata = clean_metadata(metadata)
    usage_limit, usage_refill = clean_usage_limit(usage_limit, usage_refill)
    if caller is not None:
        expires_at, ips, rate_limit = narrowing.no_looser_than(caller, expires_at, ips, rate_limit)
    creator = actor.user
    secret = keygen.generate(key_type)
    api_key = ApiKey.objects.create(
        name=name,
        type=key_type,
        tenant=tenant,
        organization=organization,
        owner=creator,
        creator=creator,
        scopes=scope_specs,
        digest=secret.digest,
        display_prefix=secret.display_prefix,
        expires_at=expires_at,
        allowed_ips=ips,
        rate_limit=rate_limit,
        metadata=metadata,
        usage_limit=usage_limit,
        usage_refill=usage_refill,
    )
    audit_record(
        action=A.API_KEY_CREATED,
        tenant=tenant,
        organization=organization,
        target=api_key,
        changes={
            "name": {"to": name},
            "type": {"to": key_type},
            "scopes": {"to": scope_specs},
            "binding": {"to": organization.public_id if organization else "unbound"},
            "expires_at": {"to": expires_at.isoformat() if expires_at else None},
            "allowed_ips": {"to": ips},
            "rate_limit": {"to": api_key.rate_limit},
            "usage_limit": {"to": usage_limit},
            "usage_refill": {"to": usage_refill},
            # Its keys, not its values (up to 4 KB), as api_key.updated records a change.
            **({"metadata": {"keys": sorted(metadata)}} if metadata else {}),
        },
        actor_user=creator,
    )
    return IssuedKey(api_key=api_key, key=secret.key)


def _audit_key(action: str, api_key: ApiKey, changes: dict[str, Any], who: Any) -> None:
    """One entry about ``api_key``, in its tenant and org, by the acting user."""
    audit_record(
        action=action,
        tenant=api_key.tenant,
        organization=api_key.organization,
        target=api_key,
        changes=changes,
        actor_user=who.user,
    )


def _locked(api_key: ApiKey) -> ApiKey:
    return ApiKey.objects.select_for_update(of=("self",)).select_related("tenant", "organization").get(pk=api_key.pk)


def _require_usable(api_key: ApiKey) -> None:
    if api_key.revoked_at is not None:
        raise InvalidInput("This key has been revoked; revocation is final", field="status")


@transaction.atomic
def apikey_update(
    *,
    api_key: ApiKey,
    actor: Any,
    name: str | None = None,
    scopes: Iterable[str] | None = None,
    allowed_ips: Iterable[str] | None = None,
    expires_at: datetime | None | EllipsisType = ...,
    rate_limit: str | None = None,
    metadata: dict[str, Any] | None | EllipsisType = ...,
    usage_limit: int | None | EllipsisType = ...,
    usage_refill: str | None = None,
    seen: str | None = None,
) -> ApiKey:
    """Rename a key or change its scopes, allowlist, expiry or rate limit. Through an API
    key, or for anyone but the owner, restrictions only tighten (orgs.policy.can_change_key);
    the owner's signed-in session may widen them within the owner's role. ``seen``: the
    ``settings_version()`` the caller's page showed; a change made since is a Conflict."""
    api_key = _locked(api_key)
    if seen is not None and seen != api_key.settings_version():
        raise Conflict("This key's settings changed since this page was opened", details={"stale": True})
    who = as_actor(actor, api_key.tenant_id)
    _require_reach(who, api_key)
    _require_usable(api_key)
    before = {
        "name": api_key.name,
        "scopes": api_key.scopes,
        "allowed_ips": api_key.allowed_ips,
        "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        "rate_limit": api_key.rate_limit,
        "metadata": api_key.metadata,
        "usage_limit": api_key.usage_limit,
        "usage_refill": api_key.usage_refill,
    }
    widened: list[str] = []
    new_specs: list[str] | None = None
    if name is not None:  # a name left as it is stays, whatever rules came after it was given
        name = api_key.name if name.strip() == api_key.name else clean_name(name)
    if scopes is not None:
        try:
            new_specs = S.validate_specs(scopes)
        except S.InvalidScope as exc:
            raise InvalidInput(str(exc), field="scopes") from None
        _require_usable_scopes(api_key.type, new_specs)
        if not S.expand(new_specs) <= S.expand(api_key.scopes):
            widened.append("scopes")
    new_ips = clean_allowed_ips(allowed_ips) if allowed_ips is not None else None
    if new_ips is not None and policy.allowlist_widens(api_key.allowed_ips, new_ips):
        widened.append("allowed_ips")
    if expires_at is not ...:
        _check_expiry(api_key.tenant, expires_at)
        if policy.expiry_widens(api_key.expires_at, expires_at):
            widened.append("expires_at")
    new_rate = clean_rate_limit(rate_limit) if rate_limit is not None else None
    if new_rate is not None and policy.rate_widens(
        narrowing.rate_or_none(api_key.rate_limit), narrowing.rate_or_none(new_rate)
    ):
        widened.append("rate_limit")
    new_usage: tuple[int | None, str] | None = None
    if usage_limit is not ... or usage_refill is not None:
        new_usage = clean_usage_limit(
            api_key.usage_limit if usage_limit is ... else usage_limit,
            # A limit removed takes its refill with it; one kept keeps its refill unless sent.
            ("" if usage_limit is None else api_key.usage_refill) if usage_refill is None else usage_refill,
        )
        if policy.usage_limit_widens((api_key.usage_limit, api_key.usage_refill), new_usage):
            widened.append("usage_limit")
    relabelled = [
        field
        for field, changed in (
            ("name", name is not None and name != api_key.name),
            ("metadata", metadata is not ... and not same_json(clean_metadata(metadata), api_key.metadata or {})),
        )
        if changed
    ]
    change = policy.KeyChange(widened=tuple(widened), scopes=new_specs, relabelled=tuple(relabelled))
    decision = policy.can_change_key(who, api_key, change)
    if not decision:
        details: dict[str, Any] = {"widened": widened}
        if new_specs is not None and "scopes" in widened:
            current = S.expand(api_key.scopes)
            details["required_permissions"] = sorted(S.expand(new_specs) - current)
            details["current_permissions"] = sorted(current)
        raise NotPermitted(decision.reason, details=details)
    if name is not None:
        api_key.name = name
    if new_specs is not None:
        api_key.scopes = new_specs
    if new_ips is not None:
        api_key.allowed_ips = new_ips
    if expires_at is not ... and expires_at != api_key.expires_at:
        api_key.expires_at = expires_at
        api_key.expiry_notice_days = None  # a new expiry gets its own 60/30/7-day notices
    if metadata is not ...:
        api_key.metadata = clean_metadata(metadata)
    if new_rate is not None:
        api_key.rate_limit = new_rate
    counted_meanwhile = None
    if new_usage is not None:
        # The uses counted so far go with a new refill: now, and, once every process was told
        # (after the receivers' on_commit), what the old counter counted until then.
        if api_key.usage_limit is None and new_usage[0] is not None:
            uses.start_afresh(api_key.pk, new_usage[1])  # a new limit, not the old one's count
        else:
            counted_meanwhile = uses.carry(api_key.pk, api_key.usage_refill, new_usage[1])
        api_key.usage_limit, api_key.usage_refill = new_usage
    api_key.save()
    if counted_meanwhile is not None:
        transaction.on_commit(counted_meanwhile, robust=True)
    after = {
        "name": api_key.name,
        "scopes": api_key.scopes,
        "allowed_ips": api_key.allowed_ips,
        "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        "rate_limit": api_key.rate_limit,
        "usage_limit": api_key.usage_limit,
        "usage_refill": api_key.usage_refill,
    }
    changes: dict[str, Any] = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
    if not same_json(before["metadata"] or {}, api_key.metadata):
        changes["metadata"] = {"keys": sorted(api_key.metadata)}  # up to 4 KB: its keys, not its values
    if changes:
        _audit_key(A.API_KEY_UPDATED, api_key, changes, who)
    return api_key


@transaction.atomic
def apikey_revoke(*, api_key: ApiKey, actor: Any, reason: str = "", details: dict[str, Any] | None = None) -> ApiKey:
    """Revoke a key for good, its rotated-out secret included. ``reason`` (e.g. ``leaked``)
    and ``details`` (e.g. where it was found) go into the audit entry."""
    api_key = _locked(api_key)
    who = as_actor(actor, api_key.tenant_id)
    _require_reach(who, api_key)
    policy.require(policy.can_revoke_key(who, api_key))
    if api_key.revoked_at is None:
        # Its invitations before its audit entry (the tenant's audit chain), the order an accept
        # takes them in: the other way round, each waited on the other.
        pending = Invitation.objects.filter(
            sent_through_key_pk=api_key.pk, accepted_at__isnull=True, revoked_at__isnull=True
        )
        list(pending.select_for_update())
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        changes: dict[str, Any] = {"revoked_at": {"from": None, "to": api_key.revoked_at.isoformat()}}
        if reason:
            changes["reason"] = reason
        changes.update(details or {})
        _audit_key(A.API_KEY_REVOKED, api_key, changes, who)
        # The invitations it sent die with it (a finder's own address among them).
        key_invitations.key_invitations_withdraw(
            tenant=api_key.tenant, key_pk=api_key.pk, key_id=api_key.public_id, actor=who.user, why=reason
        )
    return api_key


@transaction.atomic
def apikey_set_active(*, api_key: ApiKey, actor: Any, active: bool) -> ApiKey:
    api_key = _locked(api_key)
    who = as_actor(actor, api_key.tenant_id)
    _require_reach(who, api_key)
    _require_usable(api_key)
    if active:
        policy.require(policy.can_activate_key(who, api_key))
    else:
        policy.require(policy.can_revoke_key(who, api_key))
    if api_key.is_active != active:
        api_key.is_active = active
        api_key.save(update_fields=["is_active", "updated_at"])
        # Its invitations before its audit entry, as in apikey_revoke (an accept's order).
        key_invitations.key_invitations_hold(tenant=api_key.tenant, key_pk=api_key.pk, held=not active)
        _audit_key(
            A.API_KEY_ACTIVATED if active else A.API_KEY_DEACTIVATED,
            api_key,
            {"is_active": {"from": not active, "to": active}},
            who,
        )
    return api_key


def _grace_left(api_key: ApiKey, now: datetime) -> dict[str, str] | None:
    """The rotated-out secret still in its grace period (prefix, until when), if any."""
    until = api_key.previous_expires_at
    if not api_key.previous_digest or until is None or until <= now:
        return None
    return {"prefix": api_key.previous_display_prefix, "was_valid_until": until.isoformat()}


@transaction.atomic
def apikey_rotate(*, api_key: ApiKey, actor: Any, grace_period_seconds: int = DEFAULT_GRACE_SECONDS) -> IssuedKey:
    """Issue a new secret for the same key; the old one works for the grace period."""
    if not isinstance(grace_period_seconds, int) or not 0 <= grace_period_seconds <= MAX_GRACE_SECONDS:
        raise InvalidInput(
            f"grace_period_seconds must be between 0 and {MAX_GRACE_SECONDS}", field="grace_period_seconds"
        )
    who = as_actor(actor, api_key.tenant_id)
    api_key = narrowing.rotation_locked(who, api_key)  # and the key it goes through, in key order
    _require_reach(who, api_key)
    policy.require(policy.can_rotate_key(who, api_key))
    narrowing.require_rotatable_through(who, api_key)
    _require_usable(api_key)
    now = timezone.now()
    if api_key.expires_at is not None and api_key.expires_at <= now:
        # The new secret keeps the key's expiry: it would be refused as the old one is.
        raise InvalidInput(
            "This key has expired, and a new secret would be too: set a new expiry first", field="expires_at"
        )
    # A key keeps one previous secret: one still in its grace stops now (the audit says so).
    cut_short = _grace_left(api_key, now)
    secret = keygen.generate(api_key.type)
    api_key.previous_digest = api_key.digest
    api_key.previous_expires_at = now + timedelta(seconds=grace_period_seconds)
    api_key.digest = secret.digest
    api_key.previous_display_prefix = api_key.display_prefix
    api_key.display_prefix = secret.display_prefix
    # Watching the rotation: each secret's last use from now on (apikeys.usage.touch).
    api_key.previous_last_used_at = api_key.current_last_used_at = None
    # A new secret starts no lifetime the tenant's policy forbids (a key from before the cap).
    old_expiry, api_key.expires_at = api_key.expires_at, _capped_expiry(api_key.tenant, api_key.expires_at, now)
    if api_key.expires_at != old_expiry:
        api_key.expiry_notice_days = None  # the new expiry gets its own 60/30/7-day notices
    api_key.save(
        update_fields=[
            "expires_at",
            "expiry_notice_days",
            "previous_digest",
            "previous_expires_at",
            "digest",
            "display_prefix",
            "previous_display_prefix",
            "previous_last_used_at",
            "current_last_used_at",
            "updated_at",
        ]
    )
    # Counted under the new secret from now on: it starts with what the key used so far,
    # read once the rotation is committed and every process was told (the receivers' own
    # on_commit ran first): until then other workers still count under the old secret.
    # Robust: a failure here must not lose the new secret, shown only in this answer.
    old_digest, new_digest = api_key.previous_digest, api_key.digest
    # Known for good (a secret found in public rotations later is still the key's, SPEC §14).
    through_itself = who.credential is not None and who.credential.key_pk == api_key.pk
    RetiredSecret.objects.create(
        api_key=api_key, digest=old_digest, retired_at=now, rotated_through_itself=through_itself
    )
    plan, override = api_key.tenant.plan, api_key.rate_limit
    transaction.on_commit(lambda: carry_over(old_digest, new_digest, plan, override), robust=True)
    changes: dict[str, Any] = {
        "grace_period_seconds": grace_period_seconds,
        "previous_secret_valid_until": api_key.previous_expires_at.isoformat(),
        "display_prefix": {"from": api_key.previous_display_prefix, "to": secret.display_prefix},
    }
    if cut_short is not None:
        changes["previous_secret_ended"] = cut_short
    if api_key.expires_at != old_expiry and api_key.expires_at is not None:
        changes["expires_at"] = {"from": old_expiry and old_expiry.isoformat(), "to": api_key.expires_at.isoformat()}
    audit_record(
        action=A.API_KEY_ROTATED,
        tenant=api_key.tenant,
        organization=api_key.organization,
        target=api_key,
        changes=changes,
        actor_user=who.user,
    )
    return IssuedKey(api_key=api_key, key=secret.key)
