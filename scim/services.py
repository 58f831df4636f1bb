"""Every SCIM write: tokens, the tenant directory's users and groups, and what they do to
Tater accounts, memberships, sessions and keys. Each service runs in one transaction with
its audit entries; on ``/scim/v2/`` the audit channel is ``scim`` and the entry's key id is
the acting SCIM token's id (scim.protocol.authentication sets both).

Decisions (docs/scim.md has the long form):

- **Tenant boundary.** A tenant's directory changes only what is its own. Deprovisioning
  (``active: false`` or DELETE) ends the person's roles in *this* tenant; the account
  itself is deactivated (sessions ended, API keys refused on the next request) only when
  no other tenant holds it. The account's email and name follow the directory only then.
- **Accounts.** A new account is created only for a userName in one of the tenant's
  verified domains (SPEC §8); an existing account is linked only when it already belongs
  to the tenant. Otherwise the User is *pending*: it exists in the directory, holds
  nothing, and is linked once the account belongs to the tenant.
- **Reprovisioning** (``active: true``) reactivates an account only if deprovisioning
  deactivated it, gives back the roles it took, and re-applies the groups. Keys come back
  with their owner; revoked keys stay revoked.
- **Groups** grant what the tenant owner maps them to (an org and a role). In a mapped org
  the groups decide the role of their members; a membership a group granted ends with the
  group, a membership someone added by hand is never removed by SCIM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import domains
from accounts import services as account_services
from audit import registry as A
from audit.services import audit_record
from orgs import policy, roles
from orgs import services as org_services
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership
from orgs.selectors import as_actor
from scim import selectors, tokens
from scim.documents import GroupDoc, UserDoc
from scim.models import ScimGroup, ScimGroupMember, ScimToken, ScimUser
from tater.emails import nfkc, normalize_email
from tater.exceptions import DomainError, InvalidInput, ObjectNotFound

logger = logging.getLogger("tater.scim")
AUDIT_LIST_LIMIT = 100  # ids listed in one audit entry; the count is always complete


class DirectoryError(DomainError):
    """A SCIM change the directory refuses, with RFC 7644's ``scimType``."""

    def __init__(self, message: str, *, status: int = 400, scim_type: str | None = "invalidValue") -> None:
        super().__init__(message)
        self.status_code = status
        self.code = "CONFLICT" if status == 409 else "VALIDATION_ERROR"
        self.scim_type = scim_type


def _taken(what: str) -> DirectoryError:
    return DirectoryError(what, status=409, scim_type="uniqueness")


# --- Tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ScimToken
    secret: str  # shown once, never stored


def require_token_manager(who: policy.Actor, *, issuing: bool) -> None:
    policy.require(policy.can_manage_scim_tokens(who, issuing=issuing))


@transaction.atomic
def scim_token_create(*, tenant: Tenant, name: str, actor: Any) -> IssuedToken:
    """A new SCIM token for ``tenant``; its secret is returned here only."""
    who = as_actor(actor, tenant)
    require_token_manager(who, issuing=True)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("Name must be 1 to 100 characters", field="name")
    secret = tokens.generate()
    token = ScimToken.objects.create(
        tenant=tenant, name=name, digest=secret.digest, display_prefix=secret.display_prefix, created_by=who.user
    )
    audit_record(
        action=A.SCIM_TOKEN_CREATED, tenant=tenant, target=token,
        changes={"name": {"to": name}, "prefix": {"to": secret.display_prefix}}, actor_user=who.user,
    )
    return IssuedToken(token=token, secret=secret.token)


@transaction.atomic
def scim_token_revoke(*, token: ScimToken, actor: Any) -> ScimToken:
    """Revoke a token: its next request is refused (401)."""
    who = as_actor(actor, token.tenant_id)
    require_token_manager(who, issuing=False)
    locked = ScimToken.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            action=A.SCIM_TOKEN_REVOKED, tenant=locked.tenant, target=locked,
            changes={"revoked_at": {"to": locked.revoked_at}}, actor_user=who.user,
        )
    return locked


# --- Accounts behind the directory ------------------------------------------------------


def _is_email(value: str) -> bool:
    try:
        validate_email(nfkc(value))
    except ValidationError:
        return False
    return True


def _account_for(tenant: Tenant, user_name: str) -> tuple[Any | None, str]:
    """The account a userName stands for, and how: ``linked`` (it belongs to the tenant),
    ``created`` (a new address in a verified domain) or ``pending`` (neither)."""
    if not _is_email(user_name):
        return None, "pending"
    existing = account_services.user_by_email(user_name)
    if existing is not None:
        # Never pull in an account of someone outside the tenant (SPEC §8: linking is the
        # account owner's decision), and never tell the caller such an account exists.
        return (existing, "linked") if selectors.belongs_to_tenant(tenant=tenant, user=existing) else (None, "pending")
    if not domains.is_verified_for(tenant=tenant, domain=domains.email_domain(user_name)):
        return None, "pending"
    try:
        with transaction.atomic():
            return get_user_model().objects.create_user(email=nfkc(user_name)), "created"
    except IntegrityError:  # created by a concurrent request in between
        raise _taken("A User with this userName already exists") from None


def _push_profile(identity: ScimUser) -> None:
    """The account's name follows the directory when no other tenant holds the account."""
    user = identity.user
    if user is None or selectors.other_tenants_hold(tenant=identity.tenant_id, user=user):
        return
    name = identity.attributes.get("name", {})
    first, last = name.get("givenName", "")[:150], name.get("familyName", "")[:150]
    if (user.first_name, user.last_name) != (first, last):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])


def _change_account_email(identity: ScimUser, new: str) -> dict[str, str] | None:
    user = identity.user
    if user is None:
        return None
    if normalize_email(new) == normalize_email(user.email):
        return None
    if not _is_email(new):
        raise DirectoryError("userName must stay an email address: it is the person's Tater sign-in")
    if selectors.other_tenants_hold(tenant=identity.tenant_id, user=user):
        raise DirectoryError(
            "This person's account also belongs to another tenant: its email address cannot be changed from here",
            scim_type="mutability",
        )
    if not domains.is_verified_for(tenant=identity.tenant, domain=domains.email_domain(new)):
        raise DirectoryError("userName must be an address in one of the tenant's verified domains")
    if account_services.user_by_email(new) is not None:
        raise _taken("Another account already uses this email address")
    old = user.email
    user.email = nfkc(new)
    user.save(update_fields=["email"])
    # The old address no longer reaches the account (sign-in, password reset): the
    # directory may give it to someone else.
    stale = [a.pk for a in EmailAddress.objects.filter(user=user) if normalize_email(a.email) != normalize_email(new)]
    EmailAddress.objects.filter(pk__in=stale).delete()
    return {"from": old, "to": user.email}


# --- Reconciling an identity with Tater ---------------------------------------------------


def _orgs_of(tenant_pk: int, pks: Any) -> dict[int, Organization]:
    return {o.pk: o for o in Organization.objects.select_related("tenant").filter(tenant_id=tenant_pk, pk__in=list(pks))}


def _suspend(identity: ScimUser) -> list[str]:
    """Deprovision: end the person's roles in this tenant (remembering them), and when no
    other tenant holds the account, deactivate it: sessions end, keys stop working."""
    user, tenant = identity.user, identity.tenant
    if user is None:
        return []
    done: list[str] = []
    tenant_role = TenantMembership.objects.filter(tenant=tenant, user=user).values_list("role", flat=True).first()
    org_roles = dict(
        OrgMembership.objects.filter(organization__tenant=tenant, user=user).values_list("organization_id", "role")
    )
    granted = {int(k): v for k, v in identity.granted_roles.items()}
    if tenant_role or org_roles:
        kept = dict(identity.suspended_roles or {})
        manual = {str(pk): role for pk, role in org_roles.items() if granted.get(pk) != role}
        identity.suspended_roles = {
            "tenant_role": tenant_role or kept.get("tenant_role"),
            "orgs": {**kept.get("orgs", {}), **manual},
        }
        if tenant_role:
            # The last owner cannot be removed (409): the IdP cannot orphan the tenant.
            org_services.tenant_member_set(tenant=tenant, user=user, role=None)
        for org in _orgs_of(tenant.pk, org_roles).values():
            org_services.org_member_set(organization=org, user=user, role=None)
        done.append("roles_suspended")
    identity.granted_roles = {}
    if user.is_active and not selectors.other_tenants_hold(tenant=tenant, user=user):
        user.is_active = False
        user.save(update_fields=["is_active"])
        account_services.user_deactivated(user=user)  # every session, every key (cache)
        identity.deactivated_account = True
        done.append("account_deactivated")
    return done


def _resume(identity: ScimUser) -> list[str]:
    """Reprovision: reactivate the account if deprovisioning deactivated it, and give back
    the roles deprovisioning took (groups are re-applied after)."""
    user, tenant = identity.user, identity.tenant
    if user is None:
        return []
    done: list[str] = []
    if identity.deactivated_account:
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
            done.append("account_reactivated")
        identity.deactivated_account = False
    kept = identity.suspended_roles or {}
    if kept:
        tenant_role = kept.get("tenant_role")
        if tenant_role and not TenantMembership.objects.filter(tenant=tenant, user=user).exists():
            org_services.tenant_member_set(tenant=tenant, user=user, role=tenant_role)
        current = set(OrgMembership.objects.filter(organization__tenant=tenant, user=user).values_list("organization_id", flat=True))
        wanted = {int(pk): role for pk, role in kept.get("orgs", {}).items()}
        for org in _orgs_of(tenant.pk, wanted).values():
            if org.pk not in current:
                org_services.org_member_set(organization=org, user=user, role=wanted[org.pk])
        identity.suspended_roles = {}
        done.append("roles_restored")
    return done


def _apply_groups(identity: ScimUser) -> None:
    """Make the person's roles in mapped orgs what their groups grant (highest role wins);
    end memberships a group granted and no group grants any more."""
    user = identity.user
    desired: dict[int, str] = {}
    rows = ScimGroupMember.objects.filter(identity=identity, group__organization__isnull=False).exclude(group__role="")
    for org_pk, role in rows.values_list("group__organization_id", "group__role"):
        if roles.ORG_ROLE_RANK.get(role, 0) > roles.ORG_ROLE_RANK.get(desired.get(org_pk, ""), 0):
            desired[org_pk] = role
    granted = {int(k): v for k, v in identity.granted_roles.items()}
    current = dict(
        OrgMembership.objects.filter(organization__tenant_id=identity.tenant_id, user=user).values_list("organization_id", "role")
    )
    for org_pk, org in sorted(_orgs_of(identity.tenant_id, set(desired) | set(granted)).items()):
        want = desired.get(org_pk)
        if want is not None:
            if current.get(org_pk) != want:
                org_services.org_member_set(organization=org, user=user, role=want)
        elif current.get(org_pk) is not None and current.get(org_pk) == granted.get(org_pk):
            org_services.org_member_set(organization=org, user=user, role=None)
    identity.granted_roles = {str(pk): role for pk, role in desired.items()}


def _reconcile(identity: ScimUser) -> list[str]:
    """Bring Tater in line with the identity's state; what it did, for the audit entry."""
    if identity.user is None:
        return []
    if identity.deleted_at is not None or identity.active is False:
        return _suspend(identity)
    done = _resume(identity)
    _apply_groups(identity)
    return done


def _inherit_deactivation(identity: ScimUser) -> None:
    """A User provisioned again after a DELETE: if that DELETE deactivated the account,
    provisioning it again reactivates it."""
    if identity.user is not None and not identity.user.is_active:
        identity.deactivated_account = ScimUser.objects.filter(
            tenant_id=identity.tenant_id, user=identity.user, deleted_at__isnull=False, deactivated_account=True
        ).exists()


# --- Users --------------------------------------------------------------------------------


def _user_state(identity: ScimUser) -> dict[str, Any]:
    return {
        "userName": identity.user_name,
        "externalId": identity.external_id,
        "active": identity.active,
        **identity.attributes,
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def directory_sync(*, tenant: Tenant) -> None:
    """Give every account that belongs to the tenant by a role a User in its directory, so
    the identity provider finds existing people (``userName eq …``) instead of creating
    them twice; a pending User with that userName is linked to the account."""
    members = selectors.tenant_members(tenant=tenant).exclude(
        pk__in=ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True, user__isnull=False).values("user_id")
    )
    for user in members:
        key = normalize_email(user.email)
        try:
            with transaction.atomic():
                pending = (
                    ScimUser.objects.select_for_update(of=("self",)).select_related("tenant")
                    .filter(tenant=tenant, deleted_at__isnull=True, user__isnull=True, user_name_key=key).first()
                )
                if pending is not None:
                    pending.user = user
                    effects = _reconcile(pending)
                    _push_profile(pending)
                    pending.version += 1
                    pending.save()
                    audit_record(
                        action=A.SCIM_USER_LINKED, tenant=tenant, target=pending,
                        changes={"account": {"to": user.email}, "effects": effects},
                    )
                elif not ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True, user_name_key=key).exists():
                    name = {k: v for k, v in (("givenName", user.first_name), ("familyName", user.last_name)) if v}
                    attributes: dict[str, Any] = {"emails": [{"value": user.email, "type": "work", "primary": True}]}
                    if name:
                        attributes["name"] = name
                    ScimUser.objects.create(
                        tenant=tenant, user=user, user_name=user.email, user_name_key=key,
                        active=user.is_active, attributes=attributes,
                    )
        except IntegrityError:
            logger.info("directory sync raced for user %s in tenant %s", user.pk, tenant.pk)


@transaction.atomic
def scim_user_create(*, tenant: Tenant, doc: UserDoc) -> ScimUser:
    """POST /Users: a new User in the tenant's directory, and its account (see the module
    docstring for when an account is created, linked, or the User stays pending)."""
    key = normalize_email(doc.user_name)
    if selectors.scim_users(tenant=tenant).filter(user_name_key=key).exists():
        raise _taken("A User with this userName already exists")
    account, how = _account_for(tenant, doc.user_name)
    if account is not None and selectors.scim_users(tenant=tenant).filter(user=account).exists():
        raise _taken("This person is already in the directory under another userName")
    identity = ScimUser(
        tenant=tenant, user=account, user_name=doc.user_name, user_name_key=key,
        external_id=doc.external_id, active=doc.active, attributes=doc.attributes(),
    )
    _inherit_deactivation(identity)
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:
        raise _taken("A User with this userName already exists") from None
    effects = _reconcile(identity)
    _push_profile(identity)
    identity.save()
    audit_record(
        action=A.SCIM_USER_CREATED, tenant=tenant, target=identity,
        changes={**_diff({}, _user_state(identity)), "account": how, "effects": effects},
    )
    return identity


def _require_version(current: int, if_match: frozenset[int] | None) -> None:
    """If-Match (RFC 7644 §3.14): the change applies only to the version the client saw."""
    if if_match is not None and current not in if_match:
        raise DirectoryError("The resource has changed since it was read (If-Match)", status=412, scim_type=None)


@transaction.atomic
def scim_user_update(
    *, identity: ScimUser, change: Callable[[ScimUser], UserDoc], if_match: frozenset[int] | None = None
) -> ScimUser:
    """PUT or PATCH /Users/{id}: the User becomes ``change(current)``, computed under the
    row lock (two PATCHes never lose each other's change). ``active`` false deprovisions,
    true (or unassigned) after false reprovisions."""
    identity = ScimUser.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=identity.pk)
    _require_version(identity.version, if_match)
    doc = change(identity)
    tenant = identity.tenant
    before = _user_state(identity)
    was_active = identity.active is not False
    key = normalize_email(doc.user_name)
    if key != identity.user_name_key and selectors.scim_users(tenant=tenant).filter(user_name_key=key).exists():
        raise _taken("A User with this userName already exists")
    extra: dict[str, Any] = {}
    if identity.user is not None and doc.user_name != identity.user_name:
        moved = _change_account_email(identity, doc.user_name)
        if moved:
            extra["account_email"] = moved
    identity.user_name, identity.user_name_key = doc.user_name, key
    identity.external_id, identity.active, identity.attributes = doc.external_id, doc.active, doc.attributes()
    linked = False
    if identity.user is None:
        account, how = _account_for(tenant, doc.user_name)
        if account is not None and not selectors.scim_users(tenant=tenant).filter(user=account).exists():
            identity.user, linked = account, True
            _inherit_deactivation(identity)
            extra["account"] = how
    now_active = identity.active is not False
    effects = _reconcile(identity) if linked or was_active != now_active else []
    _push_profile(identity)
    changes = _diff(before, _user_state(identity))
    if not changes and not extra:
        return identity
    identity.version += 1
    identity.save()
    if was_active and not now_active:
        action = A.SCIM_USER_DEACTIVATED
    elif now_active and not was_active:
        action = A.SCIM_USER_REACTIVATED
    else:
        action = A.SCIM_USER_UPDATED
    audit_record(action=action, tenant=tenant, target=identity, changes={**changes, **extra, "effects": effects})
    return identity


@transaction.atomic
def scim_user_delete(*, identity: ScimUser, if_match: frozenset[int] | None = None) -> None:
    """DELETE /Users/{id}: deprovision, leave every group, and disappear from the directory
    (a 404 from now on). The row stays, so provisioning the person again is recognised."""
    identity = ScimUser.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=identity.pk)
    _require_version(identity.version, if_match)
    effects = _suspend(identity) if identity.user is not None else []
    now = timezone.now()
    ScimGroup.objects.filter(memberships__identity=identity).update(version=F("version") + 1, updated_at=now)
    ScimGroupMember.objects.filter(identity=identity).delete()
    identity.deleted_at = now
    identity.save()
    audit_record(
        action=A.SCIM_USER_DELETED, tenant=identity.tenant, target=identity,
        changes={"userName": {"from": identity.user_name}, "effects": effects},
    )


# --- Groups -------------------------------------------------------------------------------


def _identities(tenant: Tenant, ids: tuple[str, ...]) -> dict[str, ScimUser]:
    found = {
        u.public_id: u
        for u in selectors.scim_users(tenant=tenant).select_related("user", "tenant").filter(public_id__in=ids)
    }
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise DirectoryError(f"No User with id {unknown[0]!r} in this directory")
    return found


def _listed(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "ids": ids[:AUDIT_LIST_LIMIT]}


def _regrant(identities: Any) -> None:
    for identity in identities:
        if identity.user is not None and identity.active is not False and identity.deleted_at is None:
            locked = ScimUser.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=identity.pk)
            _apply_groups(locked)
            locked.save(update_fields=["granted_roles"])


@transaction.atomic
def scim_group_create(*, tenant: Tenant, doc: GroupDoc) -> ScimGroup:
    key = normalize_email(doc.display_name)
    if ScimGroup.objects.filter(tenant=tenant, display_name_key=key).exists():
        raise _taken("A Group with this displayName already exists")
    members = _identities(tenant, doc.member_ids)
    try:
        with transaction.atomic():
            group = ScimGroup.objects.create(
                tenant=tenant, display_name=doc.display_name, display_name_key=key, external_id=doc.external_id
            )
    except IntegrityError:
        raise _taken("A Group with this displayName already exists") from None
    ScimGroupMember.objects.bulk_create(ScimGroupMember(group=group, identity=members[i]) for i in doc.member_ids)
    audit_record(
        action=A.SCIM_GROUP_CREATED, tenant=tenant, target=group,
        changes={"displayName": {"to": doc.display_name}, "externalId": {"to": doc.external_id},
                 "members_added": _listed(list(doc.member_ids))},
    )
    return group


@transaction.atomic
def scim_group_update(
    *, group: ScimGroup, change: Callable[[ScimGroup, list[str]], GroupDoc], if_match: frozenset[int] | None = None
) -> ScimGroup:
    """PUT or PATCH /Groups/{id}: name and members become ``change(current, member ids)``'s,
    computed under the row lock (concurrent member PATCHes, as Entra ID sends them, never
    lose each other's members); members of a mapped group gain or lose its role at once."""
    group = ScimGroup.objects.select_for_update(of=("self",)).select_related("tenant", "organization").get(pk=group.pk)
    _require_version(group.version, if_match)
    tenant = group.tenant
    current = selectors.group_member_ids(group=group)
    doc = change(group, current)
    key = normalize_email(doc.display_name)
    if key != group.display_name_key and ScimGroup.objects.filter(tenant=tenant, display_name_key=key).exists():
        raise _taken("A Group with this displayName already exists")
    added = [i for i in doc.member_ids if i not in set(current)]
    removed = [i for i in current if i not in set(doc.member_ids)]
    joining = _identities(tenant, tuple(added))
    changes: dict[str, Any] = _diff(
        {"displayName": group.display_name, "externalId": group.external_id},
        {"displayName": doc.display_name, "externalId": doc.external_id},
    )
    if added:
        changes["members_added"] = _listed(added)
    if removed:
        changes["members_removed"] = _listed(removed)
    if not changes:
        return group
    leaving = list(ScimUser.objects.filter(tenant=tenant, public_id__in=removed))
    ScimGroupMember.objects.filter(group=group, identity__in=leaving).delete()
    ScimGroupMember.objects.bulk_create(ScimGroupMember(group=group, identity=joining[i]) for i in added)
    group.display_name, group.display_name_key, group.external_id = doc.display_name, key, doc.external_id
    group.version += 1
    group.save()
    if group.is_mapped:
        _regrant([*joining.values(), *leaving])
    audit_record(action=A.SCIM_GROUP_UPDATED, tenant=tenant, organization=group.organization, target=group, changes=changes)
    return group


@transaction.atomic
def scim_group_delete(*, group: ScimGroup, if_match: frozenset[int] | None = None) -> None:
    """DELETE /Groups/{id}: members of a mapped group lose the role it granted."""
    group = ScimGroup.objects.select_for_update(of=("self",)).select_related("tenant", "organization").get(pk=group.pk)
    _require_version(group.version, if_match)
    former = list(group.members.all())
    mapped = group.is_mapped
    audit_record(
        action=A.SCIM_GROUP_DELETED, tenant=group.tenant, organization=group.organization, target=group,
        changes={"displayName": {"from": group.display_name}, "members_removed": _listed([m.public_id for m in former])},
    )
    group.delete()
    if mapped:
        _regrant(former)


@transaction.atomic
def scim_group_map(*, group: ScimGroup, organization: Organization | None, role: str, actor: Any) -> ScimGroup:
    """The tenant owner maps a group to an organization and a role (or unmaps it with
    ``organization`` None); its members' roles follow at once."""
    who = as_actor(actor, group.tenant_id)
    policy.require(policy.can_change_tenant_settings(who))
    group = ScimGroup.objects.select_for_update(of=("self",)).select_related("tenant", "organization").get(pk=group.pk)
    if organization is not None and organization.tenant_id != group.tenant_id:
        raise ObjectNotFound("No such organization in this tenant", field="organization")
    if organization is None:
        role = ""
    elif role not in roles.OrgRole.values:
        raise InvalidInput(f"Role must be one of {', '.join(roles.OrgRole.values)}", field="role")
    before = {"organization": group.organization.public_id if group.organization else None, "role": group.role or None}
    after = {"organization": organization.public_id if organization else None, "role": role or None}
    if before == after:
        return group
    group.organization, group.role = organization, role
    group.version += 1
    group.save()
    _regrant(list(group.members.all()))
    audit_record(
        action=A.SCIM_GROUP_MAPPED, tenant=group.tenant, organization=organization, target=group,
        changes=_diff(before, after), actor_user=who.user,
    )
    return group
