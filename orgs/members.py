"""People in an organization through the API and the UI: adding by email (directly when
the address is verified, else an invitation), role changes under the policy's rank rules,
removal, and invitations (accept, resend, revoke), each with its audit entry."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit import registry as A
from audit.services import audit_record
from orgs import policy, roles, signals
from orgs.email_owners import account_holding
from orgs.key_invitations import key_pk_vouching
from orgs.models import Invitation, Organization, OrgMembership, Tenant, TenantMembership
from orgs.selectors import as_actor, as_actor_locked, invitation_digest
from orgs.services import (
    INVITATION_MAX_AGE_HOURS,
    invitation_revoked,
    inviter_may_still_grant,
    org_invitations_withdraw,
    org_member_set,
    sent_invitations_recheck,
    tenant_member_set,
)
from tater.emails import nfkc, normalize_email
from tater.exceptions import Conflict, InvalidInput, NotPermitted, ObjectNotFound
from tater.mail import TenantMail
from tater.names import one_line

logger = logging.getLogger("tater.mail")

# --- Members through the API and UI: the policy's rank rules, invitations ---------------

UNSET: Any = object()


@dataclass(frozen=True)
class MemberAddResult:
    """What ``member_add_by_email`` did: ``added`` an existing user, or ``invited`` by email."""

    result: str
    user: Any | None = None
    membership: OrgMembership | None = None
    invitation: Invitation | None = None


def _member_roles(*, user: Any, organization: Organization) -> tuple[str | None, str | None]:
    """The person's tenant role and org role (either may be None)."""
    tenant_role = (
        TenantMembership.objects.filter(tenant_id=organization.tenant_id, user=user)
        .values_list("role", flat=True)
        .first()
    )
    org_role = OrgMembership.objects.filter(organization=organization, user=user).values_list("role", flat=True).first()
    return tenant_role, org_role


def _member_rank(*, user: Any, organization: Organization) -> int:
    return roles.effective_rank(*_member_roles(user=user, organization=organization))


def _require_may_change(who: policy.Actor, *, user: Any, organization: Organization) -> None:
    policy.require(
        policy.can_change_member(
            who,
            org_pk=organization.pk,
            member_pk=user.pk,
            member_rank=_member_rank(user=user, organization=organization),
        )
    )


def _normalize_email(email: str) -> str:
    # SPEC §8: NFKC and case folding, so no spelling reaches another account. The address
    # is validated as typed (in NFKC), as sign-up validates it: ``Straße@x.test`` folds to
    # ``strasse@x.test``, another mailbox, which would get the invitation. A valid address's
    # key is its lower-cased self (its domain spelled through IDNA: the same mailbox).
    try:
        validate_email(nfkc(email))
    except ValidationError:
        raise InvalidInput("Enter a valid email address", field="email") from None
    return normalize_email(email)


def proved_address(user: Any, email: str) -> bool:
    """SPEC §8: an existing account is given a role directly by an operator (a new tenant's
    owner, a membership in the admin) only once it proved it holds ``email``: anyone can sign
    up with an address they do not hold. A platform operator's account (``createsuperuser``
    makes it with no address row) is the operators' own: its own (primary) address, never
    another it merely added."""
    key = normalize_email(email)
    return (bool(user.is_staff) and normalize_email(user.email) == key) or has_verified_email(user, key)


def has_verified_email(user: Any, email: str) -> bool:
    """Does ``user`` hold ``email`` as a verified address (allauth's EmailAddress)?"""
    return any(
        normalize_email(address) == email
        for address in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )


def has_email(user: Any, email: str) -> bool:
    """Does ``user`` hold ``email`` at all, confirmed or not?"""
    addresses = EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    return any(normalize_email(address) == email for address in addresses)


KEY_GONE_NOTHING_DONE = "nobody was added and no role was changed"


def _granting_through_key(
    who: policy.Actor, *, organization: Organization, user: Any, leaving: bool = False
) -> policy.Actor:
    """A role given through an API key is given under that key (SPEC §14: a leaked key is
    revoked at once and its mail names the people let in with it): the key is locked until the
    transaction ends, so a revocation arriving meanwhile waits and its mail names the person;
    one since the request's key check refuses the change (403, nothing written). Locks in the
    order every change of a person takes them (docs/authorization.md, "Lock order"): the
    person's SCIM Users (``leaving``: and what their tenant role's end takes), the tenant row
    and the caller's roles (read afresh), the key, then the person's membership and the audit
    chain. From a session, the admin or SCIM: ``who`` as it is, nothing locked here."""
    if who.credential is None:
        return who
    tenant, key_pk = organization.tenant, who.credential.key_pk
    signals.member_join_ahead.send(
        sender=OrgMembership, tenant=tenant, user=user, actor=who.user, through_key_pk=key_pk
    )
    if leaving:
        signals.member_leave_ahead.send(sender=TenantMembership, tenant=tenant, user=user)
    who = as_actor_locked(who, tenant)[1]
    signals.key_vouch_ahead.send(
        sender=OrgMembership, tenant_pk=tenant.pk, key_pk=key_pk, nothing_done=KEY_GONE_NOTHING_DONE
    )
    return who


@transaction.atomic
def member_add_by_email(
    *, organization: Organization, email: str, role: str, actor: Any, accept_url: Callable[[str], str]
) -> MemberAddResult:
    """Add an existing user whose address is verified, or email an invitation.

    SPEC §8: people are added directly only when their email is verified; otherwise (an
    unknown address, or an account that never proved it holds the address, e.g. one an
    attacker signed up in advance) they get an invitation, accepted only by a signed-in
    user holding that verified address. The token is single-use and expires after
    ``INVITATION_MAX_AGE_HOURS``; only its digest is stored, and the email is sent after
    the transaction commits. A pending invitation to the same address is replaced.
    """
    email = _normalize_email(email)
    if role not in roles.OrgRole.values:
        raise InvalidInput(f"Role must be one of {', '.join(roles.OrgRole.values)}", field="role")
    who = as_actor(actor, organization.tenant_id)
    policy.require(policy.can_manage_members(who, org_pk=organization.pk))
    user = account_holding(email)  # by its primary address or another one (verified: below)
    direct = user is not None and has_verified_email(user, email)
    if direct:
        who = _granting_through_key(who, organization=organization, user=user)  # under its key
        policy.require(policy.can_manage_members(who, org_pk=organization.pk))  # roles read under lock
    # Added directly, a person keeps what they hold here already (a tenant role): a key
    # grants only what the role adds. An invitation may be accepted by anyone holding the address.
    held = roles.role_scopes(*_member_roles(user=user, organization=organization)) if direct else frozenset()
    policy.require(
        policy.can_grant_role(who, org_pk=organization.pk, role_rank=roles.ORG_ROLE_RANK[role], role=role, held=held),
        field="role",
    )
    actor = who.user
    if direct:
        if OrgMembership.objects.filter(organization=organization, user=user).exists():
            raise Conflict(f"{email} is already a member of this organization", field="email")
        membership = org_member_set(organization=organization, user=user, role=role, actor=actor)
        return MemberAddResult(result="added", user=user, membership=membership)

    sent_through = key_pk_vouching(who)  # the key it goes through, locked and still usable
    # One pending invitation per address: two sent at once would both revoke nothing and
    # leave two valid links (the org row serializes them; keys' foreign keys are not blocked).
    Organization.objects.select_for_update(no_key=True).only("pk").get(pk=organization.pk)
    organization = Organization.objects.select_related("tenant").get(pk=organization.pk)
    replaced = Invitation.objects.filter(
        organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    for previous in replaced:
        invitation_revoked(invitation=previous, organization=organization, actor=actor, reason="replaced")
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_digest=invitation_digest(token),
        invited_by=actor,
        expires_at=now + timedelta(hours=INVITATION_MAX_AGE_HOURS),
        sent_through_key_pk=sent_through,
    )
    audit_record(
        action=A.MEMBER_INVITED,
        tenant=organization.tenant,
        organization=organization,
        target=invitation,
        changes={"email": {"to": email}, "role": {"to": role}, "expires_at": {"to": invitation.expires_at.isoformat()}},
        actor_user=actor,
    )
    _send_invitation_email(
        invitation=invitation, organization=organization, token=token, actor=actor, accept_url=accept_url
    )
    return MemberAddResult(result="invited", invitation=invitation)


@transaction.atomic
def member_update(
    *, organization: Organization, user: Any, actor: Any, role: Any = UNSET, tenant_role: Any = UNSET
) -> None:
    """Change a member's org role and/or tenant role (``None`` drops the tenant role).

    Only org admins and tenant owners/admins manage members; nobody grants a role above
    their own or changes someone who ranks above them; tenant roles need a tenant role.
    The last owner of a tenant can be neither demoted nor removed (409 CONFLICT).
    """
    who = as_actor(actor, organization.tenant_id)
    if role is not UNSET or tenant_role not in (UNSET, None):  # a role given: under its key
        who = _granting_through_key(who, organization=organization, user=user, leaving=tenant_role is None)
    policy.require(policy.can_manage_members(who, org_pk=organization.pk))
    _require_may_change(who, user=user, organization=organization)
    actor = who.user
    # What the person holds here already: a key grants only what a role adds to it (a
    # demotion adds nothing, so a key that may remove someone may also demote them).
    held_tenant_role, held_org_role = _member_roles(user=user, organization=organization)
    held = roles.role_scopes(held_tenant_role, held_org_role)
    if role is not UNSET:
        if role not in roles.OrgRole.values:
            raise InvalidInput(f"Role must be one of {', '.join(roles.OrgRole.values)}", field="role")
        policy.require(
            policy.can_grant_role(
                who, org_pk=organization.pk, role_rank=roles.ORG_ROLE_RANK[role], role=role, held=held
            ),
            field="role",
        )
    if tenant_role is not UNSET:
        if tenant_role is not None and tenant_role not in roles.TenantRole.values:
            raise InvalidInput(
                f"Tenant role must be one of {', '.join(roles.TenantRole.values)} or null", field="tenant_role"
            )
        policy.require(policy.can_change_tenant_roles(who), field="tenant_role")
        if tenant_role is not None:
            policy.require(
                policy.can_grant_role(
                    who,
                    org_pk=organization.pk,
                    role_rank=roles.TENANT_ROLE_RANK[tenant_role],
                    role=tenant_role,
                    held=roles.role_scopes(held_tenant_role, None),  # it reaches every org: a tenant role only
                ),
                field="tenant_role",
            )
        if role is not UNSET and role is not None:
            # What the org role's change takes first (orgs.signals.member_join_ahead), before the
            # tenant role's change holds the tenant row and the audit chain.
            signals.member_join_ahead.send(sender=OrgMembership, tenant=organization.tenant, user=user, actor=actor)
        tenant = Tenant.objects.get(pk=organization.tenant_id)
        # Both changed: the invitations they sent are weighed against both new roles, not
        # against the moment between the two changes.
        tenant_member_set(tenant=tenant, user=user, role=tenant_role, actor=actor, recheck_sent=role is UNSET)
    if role is not UNSET:
        org_member_set(organization=organization, user=user, role=role, actor=actor)
        if tenant_role is not UNSET:
            sent_invitations_recheck(tenant=organization.tenant, inviter=user, actor=actor)


@transaction.atomic
def member_remove(*, organization: Organization, user: Any, actor: Any) -> None:
    """Remove a member from the org. A tenant owner/admin listed here loses the tenant role
    too (it is what gives them this org); the last owner of a tenant cannot be removed."""
    who = as_actor(actor, organization.tenant_id)
    policy.require(policy.can_manage_members(who, org_pk=organization.pk))
    _require_may_change(who, user=user, organization=organization)
    actor = who.user
    has_tenant_role = TenantMembership.objects.filter(tenant_id=organization.tenant_id, user=user).exists()
    has_org_role = OrgMembership.objects.filter(organization=organization, user=user).exists()
    if not has_tenant_role and not has_org_role:
        raise ObjectNotFound("Not found")
    if has_tenant_role:
        # Their tenant role goes too, and it reaches every org: as a tenant-role change
        # (an org-bound key is confined to its own org and may not).
        policy.require(policy.can_change_tenant_roles(who))
        tenant = Tenant.objects.get(pk=organization.tenant_id)
        tenant_member_set(tenant=tenant, user=user, role=None, actor=actor)
    if has_org_role:
        org_member_set(organization=organization, user=user, role=None, actor=actor)
    # Someone who reached the org through a tenant role only may hold an invitation too.
    org_invitations_withdraw(organization=organization, user=user, actor=actor)


class InvitationError(Conflict):
    """The link is used, replaced or expired (410 Gone in the UI)."""


INVITER_GONE = "This invitation is no longer valid: whoever sent it can no longer grant this role. Ask for a new one"
KEY_DEACTIVATED = (
    "This invitation is on hold: the API key it was sent through is deactivated. "
    "Ask for a new one, or try again once the key is reactivated"
)


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> OrgMembership:
    """Accept an invitation as the signed-in ``user``: the token is single-use, expires,
    and only works for the address it was sent to."""
    found = Invitation.objects.select_related("organization__tenant").filter(
        token_digest=invitation_digest(token or "")
    )
    pending = found.first()
    if pending is not None:
        # What the join takes first (orgs.signals.member_join_ahead: the person's SCIM Users),
        # before the invitation: a directory deprovisioning them takes those, then withdraws it.
        signals.member_join_ahead.send(sender=OrgMembership, tenant=pending.organization.tenant, user=user, actor=user)
        if pending.invited_by_id is not None:
            # The inviter's roles (and the tenant row) before the invitation, as every role
            # change takes them: a demotion in flight finishes first (withdrawing what its
            # inviter can no longer grant), then the roles are read afresh below. Taken after
            # the invitation, each waited on the other (a deadlock).
            as_actor_locked(pending.invited_by, pending.organization.tenant)
    invitation = found.select_for_update().first()
    if invitation is None:
        raise ObjectNotFound("This invitation link is not valid")
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationError("This invitation has already been used or was replaced by a newer one")
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired: ask for a new one")
    if not inviter_may_still_grant(invitation):
        raise InvitationError(INVITER_GONE)
    if invitation.key_deactivated:
        raise InvitationError(KEY_DEACTIVATED)
    if not has_verified_email(user, _normalize_email(invitation.email)):
        raise NotPermitted(
            "This invitation was sent to an email address your account has not verified: "
            "sign in with that address, or add and verify it under your account's email settings"
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    existing = OrgMembership.objects.filter(organization=invitation.organization, user=user).first()
    if existing is not None:
        # Joined meanwhile by another way: the invitation is used up, the role stays.
        audit_record(
            action=A.MEMBER_INVITATION_ACCEPTED,
            tenant=invitation.organization.tenant,
            organization=invitation.organization,
            target=user,
            changes={"role": {"from": existing.role, "to": existing.role}, "invitation": invitation.public_id},
            actor_user=user,
        )
        return existing
    membership = org_member_set(
        organization=invitation.organization,
        user=user,
        role=invitation.role,
        actor=user,
        via={
            "invitation": invitation.public_id,
            "invited_by": getattr(invitation.invited_by, "email", None),
            "email": invitation.email,
        },
    )
    assert membership is not None
    return membership


# --- Invitations: resend, revoke ------------------------------------------------------------


def _send_invitation_email(
    *, invitation: Invitation, organization: Organization, token: str, actor: Any, accept_url: Callable[[str], str]
) -> str:
    """Mail the accept link (after the transaction commits; a rollback sends nothing; a mail
    server's error is logged, never the invitation's failure) and return it. The message names its tenant (``tater.mail.TenantMail``) so a mail outbox
    keeps it for that tenant's owners only."""
    link = accept_url(token)
    context = {
        "organization": organization,
        "role": invitation.role,
        "link": link,
        "invited_by": actor,
        "expires_at": invitation.expires_at,
        "max_age_hours": INVITATION_MAX_AGE_HOURS,
    }
    message = TenantMail(
        subject=f"You are invited to {one_line(organization.name)} on Tater",
        body=render_to_string("invitations/email.txt", context),
        to=[invitation.email],
        tenant_public_id=organization.tenant.public_id,
    )
    public_id = invitation.public_id

    def send() -> None:
        # As every mail sent after a commit (accounts.notices, leaks): the invitation stands
        # whatever the mail server says; its failure is logged (never the link) and the inviter,
        # shown the link, may copy it or resend.
        try:
            message.send()
        except Exception as exc:
            logger.warning(
                "invitation %s: its email could not be sent (%s); resend it from the members page",
                public_id,
                type(exc).__name__,
            )

    transaction.on_commit(send, robust=True)
    return link


@dataclass(frozen=True)
class InvitationSent:
    """A (re)sent invitation and its accept link: the link exists only here and in the
    email (the invitation stores the token's digest)."""

    invitation: Invitation
    link: str


def _pending_invitation(*, organization: Organization, invitation_id: str) -> Invitation:
    """The one access helper for invitations: a pending invitation of this org, else 404."""
    invitation = (
        Invitation.objects.select_for_update()
        .filter(organization=organization, public_id=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None:
        raise ObjectNotFound("Invitation not found")
    return invitation


@transaction.atomic
def invitation_resend(
    *, organization: Organization, invitation_id: str, actor: Any, accept_url: Callable[[str], str]
) -> InvitationSent:
    """Send a pending (or expired) invitation again with a new link, valid for another
    ``INVITATION_MAX_AGE_HOURS``; the previous link stops working. Who may: whoever manages
    the org's members and may grant the invitation's role."""
    who = as_actor(actor, organization.tenant_id)
    policy.require(policy.can_manage_members(who, org_pk=organization.pk))
    sent_through = key_pk_vouching(who)  # its key before the invitation, as a revocation
    invitation = _pending_invitation(organization=organization, invitation_id=invitation_id)
    role = invitation.role
    policy.require(policy.can_grant_role(who, org_pk=organization.pk, role_rank=roles.ORG_ROLE_RANK[role], role=role))
    token = secrets.token_urlsafe(32)
    old_expiry = invitation.expires_at
    old_inviter = getattr(invitation.invited_by, "email", None)
    invitation.token_digest = invitation_digest(token)
    invitation.expires_at = timezone.now() + timedelta(hours=INVITATION_MAX_AGE_HOURS)
    # Whoever resends vouches for it from now on (inviter_may_still_grant), and the key it
    # is resent through (none from a session) is the one whose revocation withdraws it.
    invitation.invited_by = who.user
    invitation.sent_through_key_pk = sent_through
    invitation.key_deactivated = False  # the key it went through now authenticated: active
    invitation.save(
        update_fields=["token_digest", "expires_at", "invited_by", "sent_through_key_pk", "key_deactivated"]
    )
    organization = Organization.objects.select_related("tenant").get(pk=organization.pk)
    audit_record(
        action=A.MEMBER_INVITATION_RESENT,
        tenant=organization.tenant,
        organization=organization,
        target=invitation,
        changes={
            "email": invitation.email,
            "role": role,
            "expires_at": {"from": old_expiry.isoformat(), "to": invitation.expires_at.isoformat()},
            "invited_by": {"from": old_inviter, "to": getattr(who.user, "email", None)},
        },
        actor_user=who.user,
    )
    link = _send_invitation_email(
        invitation=invitation, organization=organization, token=token, actor=who.user, accept_url=accept_url
    )
    return InvitationSent(invitation=invitation, link=link)


@transaction.atomic
def invitation_revoke(*, organization: Organization, invitation_id: str, actor: Any) -> Invitation:
    """Withdraw a pending invitation: its link stops working at once."""
    who = as_actor(actor, organization.tenant_id)
    policy.require(policy.can_manage_members(who, org_pk=organization.pk))
    invitation = _pending_invitation(organization=organization, invitation_id=invitation_id)
    organization = Organization.objects.select_related("tenant").get(pk=organization.pk)
    invitation_revoked(invitation=invitation, organization=organization, actor=who.user)
    return invitation
