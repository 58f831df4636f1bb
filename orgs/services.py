"""Every write to tenants, organizations and memberships, each with its audit entry."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit import registry as A
from audit.services import audit_record
from orgs import email_owners, policy, roles, signals
from orgs.models import Invitation, Organization, OrgMembership, Plan, Tenant, TenantMembership
from orgs.selectors import as_actor, as_actor_locked
from tater import names
from tater.emails import nfkc, normalize_email
from tater.exceptions import Conflict, InvalidInput

INVITATION_MAX_AGE_HOURS: int = getattr(settings, "TATER_INVITATION_MAX_AGE_HOURS", 72)
"""How long an invitation link stays valid (setting ``TATER_INVITATION_MAX_AGE_HOURS``)."""


def _unique_slug(tenant: Tenant, name: str) -> str:
    base = slugify(name)[:90] or "org"
    slug, n = base, 2
    while Organization.objects.filter(tenant=tenant, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def tenant_create(*, name: str, owner: Any, plan: str = Plan.FREE, **settings: Any) -> Tenant:
    """A tenant and its owner (SPEC §1: nobody else can change its plan and policies);
    ``settings`` are further TENANT_SETTINGS (the admin's add form sets them all)."""
    values = {
        field: clean_tenant_setting(field, value) for field, value in {"name": name, "plan": plan, **settings}.items()
    }
    tenant = Tenant.objects.create(**values)
    TenantMembership.objects.create(tenant=tenant, user=owner, role=roles.TenantRole.OWNER)
    audit_record(
        action=A.TENANT_CREATED,
        tenant=tenant,
        target=tenant,
        changes={**{field: {"to": value} for field, value in values.items()}, "owner": {"to": owner.email}},
    )
    return tenant


TENANT_SETTINGS = (
    "name",
    "plan",
    "require_2fa",
    "require_sso",
    "key_creation_policy",
    "token_exchange_policy",
    "max_key_lifetime_days",
)


MAX_KEY_LIFETIME_DAYS = 3650


def clean_tenant_setting(field: str, value: Any) -> Any:
    """One tenant setting's clean value, or ``InvalidInput`` naming it: the rules every
    channel (settings page, admin) holds. A lifetime cap of 0 days would be shown as a cap
    and enforced as none; one beyond ten years overflows the expiry arithmetic of every
    key creation in the tenant."""
    if field not in TENANT_SETTINGS:
        raise InvalidInput(f"Unknown tenant setting {field!r}", field=field)
    if field == "name":
        return names.clean_name(value, what="Tenant name", max_length=200)
    if field == "plan" and value not in Plan.values:
        raise InvalidInput(f"Plan must be one of {', '.join(Plan.values)}", field="plan")
    if field == "max_key_lifetime_days" and value is not None and not 1 <= value <= MAX_KEY_LIFETIME_DAYS:
        raise InvalidInput(
            f"Maximum key lifetime must be from 1 to {MAX_KEY_LIFETIME_DAYS} days (empty: no limit)", field=field
        )
    return value


def clean_org_name(value: str | None) -> str:
    return names.clean_name(value, what="Organization name", max_length=200)


@transaction.atomic
def tenant_update(*, tenant: Tenant, actor: Any, **values: Any) -> Tenant:
    """Change plan and policies: tenant owners only (SPEC §1). A maximum key lifetime set or
    changed applies to the keys already issued too: those that would outlive it now expire
    that many days from now (apikeys.reactions, one audit entry per key)."""
    # The tenant row first, FOR NO KEY UPDATE (the key columns never change here: FOR UPDATE
    # also blocked the foreign-key checks of a change holding the audit chain this one then
    # needs, a deadlock); then the actor's roles, read afresh: an owner demoted while this
    # change queued behind the demotion is no longer an owner.
    tenant, who = as_actor_locked(actor, tenant)
    policy.require(policy.can_change_tenant_settings(who))
    actor = who.user
    changes = {}
    for field, value in values.items():
        value = clean_tenant_setting(field, value)
        old = getattr(tenant, field)
        if old != value:
            changes[field] = {"from": old, "to": value}
            setattr(tenant, field, value)
    if "max_key_lifetime_days" in changes and tenant.max_key_lifetime_days:
        signals.keys_sweep_ahead.send(sender=Tenant, tenant=tenant, user=None)
    if changes:
        tenant.full_clean()
        tenant.save()
        audit_record(action=A.TENANT_UPDATED, tenant=tenant, target=tenant, changes=changes, actor_user=actor)
    if "max_key_lifetime_days" in changes and tenant.max_key_lifetime_days:
        signals.key_lifetime_capped.send(sender=Tenant, tenant=tenant, days=tenant.max_key_lifetime_days, actor=actor)
    return tenant


@transaction.atomic
def org_create(
    *, tenant: Tenant, name: str, actor: Any | None = None, enforce_permissions: bool = False
) -> Organization:
    """Create an organization. With ``enforce_permissions`` only tenant owners/admins may."""
    if enforce_permissions:
        who = as_actor(actor, tenant)
        policy.require(policy.can_create_org(who))
        actor = who.user
    name = clean_org_name(name)
    org = Organization.objects.create(tenant=tenant, name=name, slug=_unique_slug(tenant, name))
    audit_record(
        action=A.ORG_CREATED,
        tenant=tenant,
        organization=org,
        target=org,
        changes={"name": {"to": name}},
        actor_user=actor,
    )
    return org


@transaction.atomic
def org_rename(
    *,
    organization: Organization,
    name: str,
    actor: Any | None = None,
    enforce_permissions: bool = False,
    shown: str | None = None,
) -> Organization:
    """Rename an organization. With ``enforce_permissions`` only tenant owners/admins and
    the org's admins may. ``shown``: the name the caller's page showed; another one saved
    since (someone else's rename) is a Conflict naming it, never replaced unseen."""
    if enforce_permissions:
        # The renamer's roles read once held: an admin demoted while this queued is refused.
        who = as_actor_locked(actor, organization.tenant)[1]
        policy.require(policy.can_rename_org(who, org_pk=organization.pk))
        actor = who.user
    name = clean_org_name(name)
    # The name replaced is the one saved when this rename holds the row, not the one the
    # page or request read: two renames at once are audited one after the other.
    old = Organization.objects.select_for_update(no_key=True).values_list("name", flat=True).get(pk=organization.pk)
    if shown is not None and old != shown and old != name:
        raise Conflict(
            f"Changed by someone else since this page was opened: it is now {old}. Save again to replace it.",
            field="name",
            details={"current": old},
        )
    return _org_field_set(organization, "name", old, name, actor)


@transaction.atomic
def org_change_slug(*, organization: Organization, slug: str, actor: Any | None = None) -> Organization:
    """Change an organization's slug (an operator's change in the admin: no other channel sets
    one), audited as a rename is, with the slug it replaces once it holds the row."""
    old = Organization.objects.select_for_update(no_key=True).values_list("slug", flat=True).get(pk=organization.pk)
    return _org_field_set(organization, "slug", old, slug, actor)


def _org_field_set(organization: Organization, field: str, old: str, new: str, actor: Any | None) -> Organization:
    """Save ``field``, read as ``old`` under the row lock, as ``new``; audited when it changed."""
    setattr(organization, field, new)
    if old != new:
        organization.save(update_fields=[field])
        audit_record(
            action=A.ORG_UPDATED,
            tenant=organization.tenant,
            organization=organization,
            target=organization,
            changes={field: {"from": old, "to": new}},
            actor_user=actor,
        )
    return organization


def require_owner_remains(*, tenant: Tenant, user: Any, old_role: str | None, role: str | None) -> None:
    """``Conflict`` when changing ``user``'s tenant role from ``old_role`` to ``role`` would
    leave the tenant without an owner who can sign in (nobody left to change its plan and
    policies, SPEC §1): an owner whose account is deactivated does not count."""
    if old_role != roles.TenantRole.OWNER or role == roles.TenantRole.OWNER:
        return
    others = TenantMembership.objects.filter(tenant=tenant, role=roles.TenantRole.OWNER, user__is_active=True)
    if not others.exclude(user=user).exists():
        raise Conflict("The last owner of a tenant cannot be removed or demoted")


@transaction.atomic
def tenant_member_set(
    *,
    tenant: Tenant,
    user: Any,
    role: str | None,
    actor: Any | None = None,
    suspended: bool = False,
    recheck_sent: bool = True,
) -> TenantMembership | None:
    """Make ``user`` a tenant owner/admin, or (role None) drop their tenant role: their
    unbound keys and their keys of orgs they are no member of are revoked (``suspended``: a
    SCIM deactivation, which keeps them for their return). The last owner of a tenant can
    be neither removed nor demoted. ``recheck_sent`` False: the caller changes their org role
    next and withdraws the invitations they can no longer grant after it."""
    if role is not None and role not in roles.TenantRole.values:
        raise InvalidInput(f"Tenant role must be one of {', '.join(roles.TenantRole.values)}", field="role")
    if role is None and not suspended:
        signals.member_leave_ahead.send(sender=TenantMembership, tenant=tenant, user=user)
    if role is not None:
        signals.member_join_ahead.send(sender=TenantMembership, tenant=tenant, user=user, actor=actor)
    # The tenant row first: a tenant's role changes queue on it, so two owners demoting or
    # removing each other at once cannot both count two owners (FOR UPDATE locks no count).
    Tenant.objects.select_for_update(no_key=True).only("pk").get(pk=tenant.pk)
    current = TenantMembership.objects.select_for_update().filter(tenant=tenant, user=user).first()
    old_role = current.role if current else None
    if old_role == role:
        return current
    require_owner_remains(tenant=tenant, user=user, old_role=old_role, role=role)
    if role is None and not suspended:
        signals.keys_sweep_ahead.send(sender=TenantMembership, tenant=tenant, user=user)
    if role is None:
        current.delete()  # type: ignore[union-attr]
        # The role reached every org of the tenant: its end ends the way back into each.
        for organization in Organization.objects.select_related("tenant").filter(tenant=tenant):
            org_invitations_withdraw(organization=organization, user=user, actor=actor)
        result = None
    elif current is None:
        result = TenantMembership.objects.create(tenant=tenant, user=user, role=role)
    else:
        current.role = role
        current.save(update_fields=["role"])
        result = current
    audit_record(
        action=A.MEMBER_ROLE_CHANGED if role and old_role else (A.MEMBER_ADDED if role else A.MEMBER_REMOVED),
        tenant=tenant,
        target=user,
        changes={"tenant_role": {"from": old_role, "to": role}},
        actor_user=actor,
    )
    if role and not old_role:
        signals.member_joined.send(sender=TenantMembership, tenant=tenant, user=user, actor=actor)
    if old_role is not None and not suspended and recheck_sent:
        sent_invitations_recheck(tenant=tenant, inviter=user, actor=actor)
    if role is None and not suspended:
        signals.member_left.send(sender=TenantMembership, tenant=tenant, user=user, organization=None, actor=actor)
    return result


@transaction.atomic
def org_member_set(
    *,
    organization: Organization,
    user: Any,
    role: str | None,
    actor: Any | None = None,
    via: dict[str, Any] | None = None,
    suspended: bool = False,
) -> OrgMembership | None:
    """Add a member, change their org role, or (role None) remove them: their keys bound to
    the org are revoked unless a tenant role still reaches it (``suspended``: a SCIM
    deactivation, which keeps them for their return). ``via``: how, for the audit entry
    (e.g. the invitation accepted and who sent it)."""
    if role is not None and role not in roles.OrgRole.values:
        raise InvalidInput(f"Role must be one of {', '.join(roles.OrgRole.values)}", field="role")
    if role is None and not suspended:
        signals.member_leave_ahead.send(sender=OrgMembership, tenant=organization.tenant, user=user)
    if role is not None:
        signals.member_join_ahead.send(sender=OrgMembership, tenant=organization.tenant, user=user, actor=actor)
    current = OrgMembership.objects.select_for_update().filter(organization=organization, user=user).first()
    old_role = current.role if current else None
    if old_role == role:
        return current
    if role is None:
        if current is None:
            return None
        if not suspended:
            signals.keys_sweep_ahead.send(sender=OrgMembership, tenant=organization.tenant, user=user)
        current.delete()
        org_invitations_withdraw(organization=organization, user=user, actor=actor)
        result = None
        action = A.MEMBER_REMOVED
    elif current is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent add of the same person
                result = OrgMembership.objects.create(organization=organization, user=user, role=role)
        except IntegrityError:
            raise Conflict(f"{user.email} is already a member of this organization", field="email") from None
        action = A.MEMBER_ADDED
    else:
        current.role = role
        current.save(update_fields=["role"])
        result = current
        action = A.MEMBER_ROLE_CHANGED
    audit_record(
        action=action,
        tenant=organization.tenant,
        organization=organization,
        target=user,
        changes={"role": {"from": old_role, "to": role}, **({"via": via} if via else {})},
        actor_user=actor,
    )
    if old_role is not None and not suspended:
        # A lower role (or none) may leave invitations they sent that they can no longer grant.
        sent_invitations_recheck(tenant=organization.tenant, inviter=user, actor=actor)
    if role is None and not suspended:
        signals.member_left.send(
            sender=OrgMembership, tenant=organization.tenant, user=user, organization=organization, actor=actor
        )
    if action == A.MEMBER_ADDED:
        signals.member_joined.send(sender=OrgMembership, tenant=organization.tenant, user=user, actor=actor)
    return result


def invitation_revoked(
    *, invitation: Invitation, organization: Organization, actor: Any | None, reason: str = ""
) -> None:
    """Revoke a pending invitation (its link stops working at once), audited."""
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    changes: dict[str, Any] = {
        "email": invitation.email,
        "role": invitation.role,
        "revoked_at": {"from": None, "to": invitation.revoked_at.isoformat()},
    }
    if reason:
        changes["reason"] = reason
    audit_record(
        action=A.MEMBER_INVITATION_REVOKED,
        tenant=organization.tenant,
        organization=organization,
        target=invitation,
        changes=changes,
        actor_user=actor,
    )


def inviter_may_still_grant(invitation: Invitation) -> bool:
    """An invitation grants its role on its inviter's behalf, so it is worth no more than
    the inviter may still grant when it is used (as a key is worth no more than its owner's
    current role, SPEC §2): an inviter since removed, demoted below the role, deactivated or
    deleted admits nobody. A resend makes whoever resent it the inviter."""
    if invitation.invited_by_id is None:
        return False
    organization = invitation.organization
    who = as_actor(invitation.invited_by, organization.tenant_id)
    role = invitation.role
    return bool(
        policy.can_manage_members(who, org_pk=organization.pk)
        and policy.can_grant_role(who, org_pk=organization.pk, role_rank=roles.ORG_ROLE_RANK[role], role=role)
    )


INVITER_CANNOT_GRANT = "inviter can no longer grant this role"


def sent_invitations_recheck(*, tenant: Tenant, inviter: Any, actor: Any | None) -> int:
    """Withdraw (audited) the tenant's pending invitations ``inviter`` sent and can no longer
    grant, after their role dropped: their links are refused from now on
    (``inviter_may_still_grant``), so the members page and the API stop listing them as
    pending, and the Activity Log says when and why they stopped working."""
    pending = list(
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization__tenant", "invited_by")
        .filter(organization__tenant=tenant, invited_by=inviter, accepted_at__isnull=True, revoked_at__isnull=True)
    )
    withdrawn = [invitation for invitation in pending if not inviter_may_still_grant(invitation)]
    for invitation in withdrawn:
        invitation_revoked(
            invitation=invitation, organization=invitation.organization, actor=actor, reason=INVITER_CANNOT_GRANT
        )
    return len(withdrawn)


@transaction.atomic
def org_invitations_withdraw(*, organization: Organization, user: Any, actor: Any | None = None) -> int:
    """Revoke the org's pending invitations to any of ``user``'s addresses, each audited.

    Removing someone ends every way back in: an invitation sent earlier (say, while their
    address was unverified, before they were added directly) would otherwise let them
    rejoin, with its role, after the removal."""
    addresses = {normalize_email(user.email)} | {
        normalize_email(address) for address in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    pending = Invitation.objects.select_for_update().filter(
        organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
    )
    withdrawn = [invitation for invitation in pending if normalize_email(invitation.email) in addresses]
    for invitation in withdrawn:
        invitation_revoked(invitation=invitation, organization=organization, actor=actor, reason="member removed")
    return len(withdrawn)


@transaction.atomic
def user_get_or_create(*, email: str, password: str | None = None) -> tuple[Any, bool]:
    """The account of ``email``, created (and audited, ``user.created``; never the password)
    when there is none: operators name a new tenant's owner this way (command, admin)."""
    user = email_owners.account_holding(email)  # its primary address or another (any spelling)
    if user is not None:
        return user, False
    # An account is created only for an address (the admin's form checks it too; a command does
    # not): "bad" would be an account no mail reaches and no sign-in form accepts.
    try:
        validate_email(nfkc(email))
    except ValidationError:
        raise InvalidInput(f"{email!r} is not an email address", field="email") from None
    longest = get_user_model()._meta.get_field("email").max_length
    if longest is not None and len(nfkc(email)) > longest:
        # As sign-up and the API take one; longer, PostgreSQL refuses the row (SQLite kept it).
        raise InvalidInput(f"An email address has at most {longest} characters", field="email")
    if password is not None:
        # The rules sign-up, reset and the admin's user form apply (AUTH_PASSWORD_VALIDATORS):
        # an operator's --password makes a tenant owner, who holds every power over the tenant.
        try:
            validate_password(password, user=get_user_model()(email=nfkc(email)))
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), field="password") from None
    user = get_user_model().objects.create_user(email=nfkc(email), password=password)
    # No tenant yet (the caller adds one next): the entry joins the chain of tenant-less
    # entries, as an account an operator creates in the admin does.
    audit_record(
        action=A.USER_CREATED,
        tenant=None,
        target=user,
        changes={"email": {"to": user.email}, "password_set": password is not None},
    )
    return user, True
