"""What the directory does to Tater: the account a User stands for (created, linked or
pending), the account's profile and email, and the person's roles, sessions and keys as the
User is deprovisioned, reprovisioned and grouped (the package docstring has the decisions).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts import domains
from accounts import services as account_services
from accounts.sign_in_binding import sign_out_lock_ahead
from apikeys import reactions as key_reactions
from orgs import email_owners, roles
from orgs import services as org_services
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership
from scim import selectors
from scim.models import ScimGroupMember, ScimUser
from scim.services.common import DirectoryError, taken
from tater.emails import nfkc, normalize_email

# --- Accounts behind the directory ------------------------------------------------------


def _is_email(value: str) -> bool:
    try:
        validate_email(nfkc(value))
    except ValidationError:
        return False
    return True


def is_operator(user: Any) -> bool:
    """A platform operator's (staff) account: never deactivated, renamed or moved by a
    tenant's directory."""
    return bool(user.is_staff or user.is_superuser)


def account_for(tenant: Tenant, user_name: str) -> tuple[Any | None, str]:
    """The account a userName stands for, and how: ``linked`` (it belongs to the tenant),
    ``created`` (a new address in a verified domain) or ``pending`` (neither)."""
    if not _is_email(user_name):
        return None, "pending"
    # Its sign-in address, or a verified additional one (SPEC §8, any spelling): the member
    # proved they hold it, so the User is that person and deprovisioning reaches them.
    existing = email_owners.address_owner(user_name)
    if existing is not None:
        # Never pull in an account of someone outside the tenant (SPEC §8: linking is the
        # account owner's decision), and never tell the caller such an account exists.
        return (existing, "linked") if selectors.belongs_to_tenant(tenant=tenant, user=existing) else (None, "pending")
    if not domains.is_verified_for(tenant=tenant, domain=domains.email_domain(user_name)):
        return None, "pending"
    # The directory vouches for it (address_assert): an account that merely added it lets go.
    account_services.addresses_release_unproved(email=user_name, tenant=tenant)
    if email_owners.address_holders(user_name):
        # Another account holds it as an additional address (perhaps unverified): a second
        # account with it would make one address two people's; linking is its owner's call.
        return None, "pending"
    try:
        with transaction.atomic():
            return get_user_model().objects.create_user(email=nfkc(user_name)), "created"
    except IntegrityError:  # created by a concurrent request in between
        raise taken("A User with this userName already exists") from None


def push_profile(identity: ScimUser) -> dict[str, Any] | None:
    """The account's name follows the directory when its address is in one of the tenant's
    verified domains and no other tenant holds the account (and it is not a platform
    operator's: those are the operators' own). A guest's name (sam@ another tenant's domain,
    bob@freemail) is its owner's: the User keeps the name as sent. What changed, for the
    caller's audit entry: a User sent again unchanged may still rename the account (an
    operator corrected it meanwhile), and that write is recorded too (SPEC §7)."""
    user = identity.user
    if user is None or is_operator(user):
        return None
    if not domains.is_verified_for(tenant=identity.tenant_id, domain=domains.email_domain(user.email)):
        return None
    if selectors.other_tenants_hold(tenant=identity.tenant_id, user=user):
        return None
    name = identity.attributes.get("name", {})
    first, last = name.get("givenName", "")[:150], name.get("familyName", "")[:150]
    before = {"first_name": user.first_name, "last_name": user.last_name}
    if (user.first_name, user.last_name) == (first, last):
        return None
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    after = {"first_name": first, "last_name": last}
    return {k: {"from": before[k], "to": after[k]} for k in before if before[k] != after[k]}


def change_account_email(identity: ScimUser, new: str) -> dict[str, str] | None:
    user = identity.user
    if user is None:
        return None
    if normalize_email(new) == normalize_email(user.email):
        return None
    if not _is_email(new):
        raise DirectoryError("userName must stay an email address: it is the person's Tater sign-in")
    refusal = _email_change_refusal(identity, user, new)
    if refusal is not None:
        owner = email_owners.address_owner(new)
        if owner is not None and owner.pk == user.pk:
            # One of the account's own verified addresses: the User names the same person
            # (as a POST of it links them); the account, not the tenant's to change, stays.
            return None
        raise refusal
    account_services.addresses_release_unproved(email=new, tenant=identity.tenant)  # as account_for
    if email_owners.held_by_another(new, user):  # primary or additional, any spelling
        raise taken("Another account already uses this email address")
    old = user.email
    user.email = nfkc(new)
    user.save(update_fields=["email"])
    # The old address no longer reaches the account (sign-in, password reset): the
    # directory may give it to someone else.
    account_services.email_addresses_forget_others(user=user)
    return {"from": old, "to": user.email}


def _email_change_refusal(identity: ScimUser, user: Any, new: str) -> DirectoryError | None:
    """Why the directory may not move the account ``user`` to ``new``, if it may not."""
    if is_operator(user):
        return DirectoryError(
            "This is a platform operator's account: its email address cannot be changed from here",
            scim_type="mutability",
        )
    if selectors.other_tenants_hold(tenant=identity.tenant_id, user=user):
        return DirectoryError(
            "This person's account also belongs to another tenant: its email address cannot be changed from here",
            scim_type="mutability",
        )
    if not domains.is_verified_for(tenant=identity.tenant, domain=domains.email_domain(user.email)):
        # SPEC §8: the tenant speaks only for addresses in its verified domains. Moving a
        # guest's account (e.g. bob@freemail) to an address the tenant controls would hand
        # the tenant its password resets: a takeover.
        return DirectoryError(
            "This person signs in with an address outside the tenant's verified domains: "
            "its email address cannot be changed from here",
            scim_type="mutability",
        )
    if not domains.is_verified_for(tenant=identity.tenant, domain=domains.email_domain(new)):
        return DirectoryError("userName must be an address in one of the tenant's verified domains")
    return None


def address_assert(identity: ScimUser) -> list[str]:
    """SPEC §8: an address the tenant's identity provider asserts (the User's userName, the
    account's sign-in address) in a domain the tenant has verified counts as verified, as an
    SSO sign-in from that domain does: the account can be given roles directly and meets the
    tenant's rules. An address elsewhere (a guest's) is never verified here, nor a platform
    operator's (those accounts are the operators' own)."""
    user = identity.user
    if user is None or is_operator(user) or identity.active is False:
        return []
    key = normalize_email(user.email)
    if key != normalize_email(identity.user_name):
        return []
    if not domains.is_verified_for(tenant=identity.tenant, domain=domains.email_domain(user.email)):
        return []
    rows = [a for a in EmailAddress.objects.filter(user=user) if normalize_email(a.email) == key]
    if rows and all(a.verified for a in rows):
        return []
    if rows:
        EmailAddress.objects.filter(pk__in=[a.pk for a in rows]).update(verified=True)
    else:
        primary = not EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=primary)
    return ["address_verified"]


# --- Reconciling an identity with Tater ---------------------------------------------------


def keys_lock_ahead(*identities: ScimUser) -> None:
    """Lock the keys these people hold in the tenant before a change that may revoke them
    writes anything: a key change locks its key and then the rows such a change writes (the
    audit chain, the key check's bookkeeping of an account saved), so taking the keys after
    those rows deadlocks with it. One query, in key order, whoever owns them. The tenant row
    and the people's memberships come first, as the membership services take them (tenant,
    membership, keys): an admin's removal waiting for this change, or waited for, never
    holds what this change needs next."""
    owners = sorted({i.user_id for i in identities if i.user_id is not None})
    if owners:
        tenant = identities[0].tenant
        Tenant.objects.select_for_update(no_key=True).only("pk").get(pk=tenant.pk)
        tenant_roles = TenantMembership.objects.select_for_update().filter(tenant=tenant, user_id__in=owners)
        list(tenant_roles.order_by("pk").values_list("pk"))
        org_roles = OrgMembership.objects.select_for_update(of=("self",))
        list(org_roles.filter(organization__tenant=tenant, user_id__in=owners).order_by("pk").values_list("pk"))
        key_reactions.keys_lock(tenant=tenant, owners=owners)


def _orgs_of(tenant_pk: int, pks: Any) -> dict[int, Organization]:
    return {
        o.pk: o for o in Organization.objects.select_related("tenant").filter(tenant_id=tenant_pk, pk__in=list(pks))
    }


# Set while a directory deprovisions someone (``suspend``): the removals it makes decide the
# account themselves, so the receivers of a removal by hand (scim.services.departures) stand by.
_deprovisioning: ContextVar[bool] = ContextVar("scim_deprovisioning", default=False)


def deprovisioning() -> bool:
    return _deprovisioning.get()


def suspend(identity: ScimUser, *, deleted: bool = False) -> list[str]:
    """Deprovision: end the person's roles in this tenant (remembering them; the keys they
    own here stop working, and are revoked when the User is deleted). When no other tenant holds the account, its sessions end too,
    and when its address is in one of the tenant's verified domains (or in those of another
    tenant whose directory let the person go first) the account is deactivated. A guest's
    account (an address outside them) stays active for its owner; a platform operator's
    (staff) account is never deactivated, and its sessions end only when its address is in
    such a domain."""
    token = _deprovisioning.set(True)
    try:
        return _suspend(identity, deleted=deleted)
    finally:
        _deprovisioning.reset(token)


def _suspend(identity: ScimUser, *, deleted: bool) -> list[str]:
    user, tenant = identity.user, identity.tenant
    if user is None:
        return []
    # Before anything below takes memberships, keys or the audit chain: the domain owner's
    # own changes take its Users first, then those.
    let_go = domain_owner_let_go(user, besides=tenant)
    if user.is_active:
        # The account (saved below) and what ending its sessions writes, before the removals'
        # audit entries: a password change and a "sign out everywhere" take them in that
        # order (accounts.sign_in_binding).
        sign_out_lock_ahead(user)
    done: list[str] = []
    # ``active: false`` suspends: the keys stay, refused, for reprovisioning to give back. A
    # DELETE ends the person here: their keys in the tenant are revoked (SPEC §2).
    suspending = not deleted
    tenant_role = TenantMembership.objects.filter(tenant=tenant, user=user).values_list("role", flat=True).first()
    org_roles = dict(
        OrgMembership.objects.filter(organization__tenant=tenant, user=user).values_list("organization_id", "role")
    )
    granted = {int(k): v for k, v in identity.granted_roles.items()}
    if tenant_role or org_roles:
        kept = dict(identity.suspended_roles or {})
        hand = {int(k): v for k, v in identity.hand_roles.items()}
        manual = {str(pk): hand.get(pk, role) for pk, role in org_roles.items() if granted.get(pk) != role}
        identity.suspended_roles = {
            "tenant_role": tenant_role or kept.get("tenant_role"),
            "orgs": {**kept.get("orgs", {}), **manual},
        }
        if tenant_role:
            # The last owner cannot be removed (409): the IdP cannot orphan the tenant.
            org_services.tenant_member_set(tenant=tenant, user=user, role=None, suspended=suspending)
        for org in _orgs_of(tenant.pk, org_roles).values():
            org_services.org_member_set(organization=org, user=user, role=None, suspended=suspending)
        done.append("roles_suspended")
    if not suspending:
        # Gone from the directory: what an earlier ``active: false`` kept for their return ends
        # too (the roles were taken then, so no removal above revoked those keys). Every key
        # first: revoking one writes the entry the next one's key change waits for.
        keys_lock_ahead(identity)
        key_reactions.keys_revoke_unreached(tenant=tenant, user=user)
    # Every way back in ends with the roles: an invitation to any org of the tenant (not only
    # those the person was a member of) would let them rejoin after deprovisioning.
    withdrawn = sum(
        org_services.org_invitations_withdraw(organization=org, user=user)
        for org in Organization.objects.select_related("tenant").filter(tenant=tenant)
    )
    if not suspending:
        # The invitations they sent, kept while they were suspended for a return: none now.
        withdrawn += org_services.sent_invitations_recheck(tenant=tenant, inviter=user, actor=None)
    if withdrawn:
        done.append("invitations_withdrawn")
    identity.granted_roles, identity.hand_roles, identity.decided_memberships = {}, {}, {}
    if not user.is_active:
        return done
    if selectors.other_tenants_hold(tenant=tenant, user=user):
        return done  # its sessions and its keys for other tenants are theirs
    speaks_for = domains.is_verified_for(tenant=tenant, domain=domains.email_domain(user.email))
    # The tenant whose verified domain holds the address let the person go while this one
    # still held them: now that nobody does, its deprovisioning takes effect, as if it had
    # been the last (the order two directories act in changes nothing, SPEC §13).
    speaks_for = speaks_for or bool(let_go)
    if is_operator(user):
        # A platform operator's account is the operators' own: never deactivated by a tenant,
        # and a tenant that does not speak for the address never signs it out. The tenant the
        # address belongs to deprovisions a leaver: their sessions end (SPEC §13).
        if speaks_for:
            account_services.sessions_end_all(user=user)
            done.append("sessions_ended")
        return done
    if speaks_for:
        account_deactivate(user, let_go=let_go)
        if not let_go:
            identity.deactivated_account = True
        done.append("account_deactivated")
    else:
        # A guest (an address the tenant never proved it speaks for, SPEC §8): the account
        # stays its owner's to sign in to; its sessions end, as deprovisioning's do.
        account_services.sessions_end_all(user=user)
        done.append("sessions_ended")
    return done


def account_deactivate(user: Any, *, let_go: list[int]) -> None:
    """Switch the account off for a directory that let the person go: every session ends and
    every key is refused (the key check re-reads owners). ``let_go``: the domain owner's Users
    when it is that tenant's stop, its reprovisioning's to undo (not the acting tenant's)."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    account_services.user_deactivated(user=user)
    if let_go:
        ScimUser.objects.filter(pk__in=let_go).update(deactivated_account=True)


def domain_owner_let_go(user: Any, *, besides: Tenant | None = None) -> list[int]:
    """The Users (locked) of the account in the directory of the tenant whose verified domain
    holds its address (other than ``besides``), when that directory has let the person go
    (deprovisioned or deleted every one of them); [] otherwise."""
    claim = domains.verified_domain(domains.email_domain(user.email))
    if claim is None or (besides is not None and claim.tenant_id == besides.pk):
        return []
    rows = ScimUser.objects.select_for_update(of=("self",)).filter(tenant_id=claim.tenant_id, user=user)
    found = list(rows.order_by("pk").values_list("pk", "active", "deleted_at"))
    if not found or any(deleted is None and active is not False for _, active, deleted in found):
        return []
    return [pk for pk, _, _ in found]


def _resume(identity: ScimUser) -> list[str]:
    """Reprovision: reactivate the account if deprovisioning deactivated it. The person
    starts fresh, as Okta and Entra ID expect of a user assigned again: the roles
    deprovisioning took are not given back (their groups are re-applied after, and an admin
    grants anything else again); the audit entry says so."""
    user = identity.user
    if user is None:
        return []
    done: list[str] = []
    if identity.deactivated_account:
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
            done.append("account_reactivated")
        identity.deactivated_account = False
    elif not user.is_active:
        # Someone else's stop (an operator's, or deactivated before deprovisioning): never SCIM's
        # to undo. The entry says so; an operator turns the account on again if they mean to.
        done.append("account_kept_inactive")
    if identity.suspended_roles:
        identity.suspended_roles = {}
        done.append("previous_roles_not_restored")
    return done


# Set while a directory's groups give roles (``apply_groups``): those are the directory's own,
# so the receiver of a join by hand (scim.services.returns) stands by.
_grouping: ContextVar[bool] = ContextVar("scim_grouping", default=False)


def grouping() -> bool:
    return _grouping.get()


def apply_groups(identity: ScimUser) -> None:
    """Make the person's roles in mapped orgs what their groups grant (highest role wins);
    end memberships a group granted and no group grants any more. A membership someone added
    by hand is never removed: the groups decide its role while one grants a role there, then
    it has its own role again. A membership the groups decided that someone ended outside
    SCIM (an admin's removal) stays ended while the same groups grant it: the identity
    provider's next, unrelated change does not undo the removal; added again by hand, it is a
    hand-added membership."""
    token = _grouping.set(True)
    try:
        _apply_groups(identity)
    finally:
        _grouping.reset(token)


def _apply_groups(identity: ScimUser) -> None:
    user = identity.user
    desired: dict[int, str] = {}
    rows = ScimGroupMember.objects.filter(identity=identity, group__organization__isnull=False).exclude(group__role="")
    for org_pk, role in rows.values_list("group__organization_id", "group__role"):
        if roles.ORG_ROLE_RANK.get(role, 0) > roles.ORG_ROLE_RANK.get(desired.get(org_pk, ""), 0):
            desired[org_pk] = role
    granted = {int(k): v for k, v in identity.granted_roles.items()}
    hand = {int(k): v for k, v in identity.hand_roles.items()}
    marks = {int(k): v for k, v in identity.decided_memberships.items()}
    memberships = OrgMembership.objects.filter(organization__tenant_id=identity.tenant_id, user=user)
    current, pks = {}, {}
    for org_pk, role, pk in memberships.values_list("organization_id", "role", "pk"):
        current[org_pk], pks[org_pk] = role, pk
    withheld = _ended_by_hand(marks, pks, granted, hand)
    for org_pk, org in sorted(_orgs_of(identity.tenant_id, set(desired) | set(granted) | set(hand)).items()):
        want, now = desired.get(org_pk), current.get(org_pk)
        if want is not None:
            if org_pk in withheld:
                continue  # an admin removed it: the same groups do not add it back
            if now is None:
                hand.pop(org_pk, None)  # the group's from now on
            elif org_pk not in granted and org_pk not in hand:
                hand[org_pk] = now  # added by hand: remembered while the groups decide its role
            if now != want:
                kept = org_services.org_member_set(organization=org, user=user, role=want)
                if kept is not None:
                    pks[org_pk] = kept.pk
        elif org_pk in hand:
            own = hand.pop(org_pk)
            if now is not None and now != own:
                org_services.org_member_set(organization=org, user=user, role=own)
        elif now is not None and now == granted.get(org_pk):
            org_services.org_member_set(organization=org, user=user, role=None)
    identity.granted_roles = {str(pk): role for pk, role in desired.items() if pk not in hand}
    identity.hand_roles = {str(pk): role for pk, role in hand.items()}
    # The membership the groups decide in each org (its row's id), to tell next time whether
    # someone ended it meanwhile; a removal that stands keeps the ended one's.
    identity.decided_memberships = {
        str(pk): marks[pk] if pk in withheld else pks[pk] for pk in desired if pk in withheld or pk in pks
    }


def _ended_by_hand(
    marks: dict[int, int], pks: dict[int, int], granted: dict[int, str], hand: dict[int, str]
) -> set[int]:
    """Orgs whose membership the groups decided was ended (or ended and added again) outside
    SCIM since: they are no longer the groups' (``granted``/``hand`` forget them). Returns those
    where the person is no member now: the removal stands."""
    withheld = set()
    for org_pk, mark in marks.items():
        if pks.get(org_pk) != mark and (org_pk in granted or org_pk in hand):
            granted.pop(org_pk, None)
            hand.pop(org_pk, None)
            if org_pk not in pks:
                withheld.add(org_pk)
    return withheld


def reconcile(identity: ScimUser) -> list[str]:
    """Bring Tater in line with the identity's state; what it did, for the audit entry."""
    if identity.user is None:
        return []
    if identity.deleted_at is not None or identity.active is False:
        return suspend(identity, deleted=identity.deleted_at is not None)
    keys_lock_ahead(identity)  # before reactivating the account saves it: keys may be revoked below
    done = _resume(identity)
    apply_groups(identity)
    if "previous_roles_not_restored" in done:
        # The suspension kept the keys for roles that did not come back: they end as after a
        # removal, so a role granted again later revives none of them (SPEC §2).
        key_reactions.keys_revoke_unreached(tenant=identity.tenant, user=identity.user)
    return done


def operator_set_active(*, user: Any, active: bool, **kwargs: Any) -> None:
    """``accounts.signals.account_active_set_by_operator``: an operator turned the account on or
    off, so whether it is active is no longer SCIM's: none of the tenants' directories
    reactivates it on reprovisioning (its rows, deleted ones included, forget the deactivation)."""
    ScimUser.objects.filter(user=user, deactivated_account=True).update(deactivated_account=False)


def operator_write_ahead(*, user: Any, **kwargs: Any) -> None:
    """``accounts.signals.account_write_ahead``: lock the account's Users in every tenant's
    directory (deleted ones too) before an operator's change writes the account. The lock
    order of a change to a person: their Users (the domain owner's last, as ``suspend`` takes
    them after its own), the account, its sign-out rows (``sign_out_lock_ahead``), then the
    tenant, memberships and keys (``keys_lock_ahead``), then the audit chain."""
    stored = get_user_model().objects.filter(pk=user.pk).values_list("email", flat=True).first()
    claim = domains.verified_domain(domains.email_domain(stored or user.email))
    owner = claim.tenant_id if claim is not None else None
    rows = ScimUser.objects.select_for_update(of=("self",)).filter(user_id=user.pk).order_by("pk")
    list(rows.exclude(tenant_id=owner).values_list("pk") if owner is not None else rows.values_list("pk"))
    if owner is not None:
        list(rows.filter(tenant_id=owner).values_list("pk"))


def inherit_deactivation(identity: ScimUser) -> None:
    """A User provisioned again after a DELETE: if that DELETE deactivated the account,
    provisioning it again reactivates it."""
    if identity.user is not None and not identity.user.is_active:
        identity.deactivated_account = ScimUser.objects.filter(
            tenant_id=identity.tenant_id, user=identity.user, deleted_at__isnull=False, deactivated_account=True
        ).exists()
