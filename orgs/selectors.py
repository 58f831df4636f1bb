"""Tenant-scoped reads. Every selector starts from the tenant or org it is given, so a
query cannot forget the tenant filter."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, QuerySet, Subquery

from audit import registry as A
from audit.models import AuditEvent
from orgs import policy, roles
from orgs.models import Invitation, Organization, OrgMembership, Tenant, TenantMembership


def user_roles(*, user: Any, tenant: Tenant, organization: Organization | None) -> tuple[str | None, str | None]:
    """The user's (tenant role, org role); either may be None."""
    tenant_role = TenantMembership.objects.filter(tenant=tenant, user=user).values_list("role", flat=True).first()
    org_role = None
    if organization is not None:
        org_role = (
            OrgMembership.objects.filter(organization=organization, user=user).values_list("role", flat=True).first()
        )
    return tenant_role, org_role


def actor_for(
    *, user: Any, tenant: Tenant | int, credential: policy.Credential | None = None, operator: bool = False
) -> policy.Actor:
    """The policy's view of ``user`` in ``tenant``: their tenant role and every org role
    they hold there (two queries), and the key the call came through, if any."""
    tenant_pk = tenant if isinstance(tenant, int) else tenant.pk
    tenant_role = None
    org_roles: dict[int, str] = {}
    user_pk = getattr(user, "pk", None)
    if user_pk is not None and getattr(user, "is_active", True):
        tenant_role = (
            TenantMembership.objects.filter(tenant_id=tenant_pk, user_id=user_pk).values_list("role", flat=True).first()
        )
        org_roles = dict(
            OrgMembership.objects.filter(organization__tenant_id=tenant_pk, user_id=user_pk).values_list(
                "organization_id", "role"
            )
        )
    return policy.Actor(
        user=user,
        tenant_pk=tenant_pk,
        tenant_role=tenant_role,
        org_roles=org_roles,
        credential=credential,
        operator=operator,
    )


def as_actor(actor: Any, tenant: Tenant | int) -> policy.Actor:
    """An Actor as given; ``None``: the system (a management command or a sign-in flow
    acting for nobody); a plain user: that user's signed-in session."""
    if isinstance(actor, policy.Actor):
        return actor
    if actor is None:
        return policy.Actor(user=None, tenant_pk=tenant if isinstance(tenant, int) else tenant.pk, operator=True)
    return actor_for(user=actor, tenant=tenant)


def as_actor_locked(actor: Any, tenant: Tenant) -> tuple[Tenant, policy.Actor]:
    """``as_actor`` for a change that must not slip past a concurrent change of the actor's
    roles or of the tenant's policies: the tenant row and the actor's memberships are locked
    until the transaction ends (a removal or a policy change waiting on them, or waited on),
    then the tenant and the roles are read afresh (an Actor given, read when its request
    started, too)."""
    user = actor.user if isinstance(actor, policy.Actor) else actor
    locked = Tenant.objects.select_for_update(no_key=True).get(pk=tenant.pk)
    list(TenantMembership.objects.select_for_update().filter(tenant=locked, user=user).values_list("pk"))
    org_roles = OrgMembership.objects.select_for_update(of=("self",)).filter(user=user, organization__tenant=locked)
    list(org_roles.values_list("pk"))
    if isinstance(actor, policy.Actor) and actor.user is not None:
        return locked, actor_for(user=actor.user, tenant=locked, credential=actor.credential, operator=actor.operator)
    return locked, as_actor(actor, locked)


def actor_for_access(access: Any, user: Any) -> policy.Actor:
    """The Actor of an API or UI request from its resolved ``Access``: the user, and the
    key the call came through (its effective permissions on this request), if any."""
    credential = None
    key = getattr(access, "key", None)
    if key is not None:
        credential = policy.Credential(
            key_pk=key.pk, org_pk=key.org.pk if key.org is not None else None, permissions=frozenset(access.scopes)
        )
    return actor_for(user=user, tenant=access.tenant_pk, credential=credential)


def org_list_for_user(*, tenant: Tenant, user: Any) -> QuerySet[Organization]:
    """The tenant's orgs this user may reach: all of them for tenant owners/admins."""
    orgs = Organization.objects.filter(tenant=tenant)
    if TenantMembership.objects.filter(tenant=tenant, user=user).exists():
        return orgs
    return orgs.filter(memberships__user=user)


def orgs_reachable_by_user(*, user: Any, excluding_tenants: Collection[int] = ()) -> QuerySet[Organization]:
    """Every org of every tenant the user belongs to (for the org switcher), but those of
    ``excluding_tenants`` (the tenants a session may not reach, ``orgs.access.session_bars``)."""
    return (
        Organization.objects.filter(Q(tenant__memberships__user=user) | Q(memberships__user=user))
        .exclude(tenant_id__in=excluding_tenants)
        .select_related("tenant")
        .distinct()
        .order_by("tenant__name", "name")
    )


def org_get(*, tenant: Tenant, public_id: str) -> Organization | None:
    return Organization.objects.filter(tenant=tenant, public_id=public_id).first()


def tenants_for_user(*, user: Any, excluding: Collection[int] = ()) -> QuerySet[Tenant]:
    return (
        Tenant.objects.filter(Q(memberships__user=user) | Q(organizations__memberships__user=user))
        .exclude(pk__in=excluding)
        .distinct()
    )


@dataclass(frozen=True)
class MemberRow:
    """Someone who reaches an org: through an org membership, a tenant role, or both."""

    user: Any
    role: str | None
    tenant_role: str | None
    joined_at: datetime

    @property
    def effective_role(self) -> str:
        """The role that decides what they may do here: a tenant role outranks an org role."""
        return self.tenant_role or self.role or ""

    @property
    def rank(self) -> int:
        return roles.effective_rank(self.tenant_role, self.role)


def _member_accounts(organization: Organization) -> QuerySet[Any]:
    """Everyone who reaches the org, as accounts ordered by email, each annotated with their
    roles there and when they got them: one query, which a page can cut (LIMIT/OFFSET)."""
    org_rows = OrgMembership.objects.filter(organization=organization)
    tenant_rows = TenantMembership.objects.filter(tenant_id=organization.tenant_id)

    def own(rows: QuerySet[Any], field: str) -> Subquery:
        return Subquery(rows.filter(user=OuterRef("pk")).values(field)[:1])

    return (
        get_user_model()
        .objects.filter(Q(pk__in=org_rows.values("user_id")) | Q(pk__in=tenant_rows.values("user_id")))
        .annotate(
            member_org_role=own(org_rows, "role"),
            member_org_since=own(org_rows, "created_at"),
            member_tenant_role=own(tenant_rows, "role"),
            member_tenant_since=own(tenant_rows, "created_at"),
        )
        .order_by("email", "pk")
    )


def _member_row(user: Any) -> MemberRow:
    since = [at for at in (user.member_org_since, user.member_tenant_since) if at is not None]
    return MemberRow(user=user, role=user.member_org_role, tenant_role=user.member_tenant_role, joined_at=min(since))


def org_members(*, organization: Organization) -> list[MemberRow]:
    """Everyone who reaches the org, ordered by email: its members plus the tenant's
    owners and admins (who reach every org of the tenant)."""
    return [_member_row(user) for user in _member_accounts(organization)]


class MemberRows:
    """Everyone who reaches an org (:func:`org_members`), read a slice at a time: one count and
    one query for a page's accounts, whether a ``Paginator`` (the members page) or the API's
    limit/offset cuts it."""

    def __init__(self, organization: Organization) -> None:
        self._accounts = _member_accounts(organization)

    def count(self) -> int:
        return self._accounts.count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[MemberRow]:  # Paginator's protocol (it reads slices)
        return (_member_row(user) for user in self._accounts.iterator())

    @overload
    def __getitem__(self, index: int) -> MemberRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[MemberRow]: ...
    def __getitem__(self, index: int | slice) -> MemberRow | list[MemberRow]:
        if isinstance(index, int):
            return _member_row(self._accounts[index])
        return [_member_row(user) for user in self._accounts[index]]


def org_members_paged(*, organization: Organization) -> MemberRows:
    return MemberRows(organization)


def member_get(*, organization: Organization, user_id: str) -> MemberRow | None:
    """One member of the org by the user's public id (``usr-<uuid>``, what the API shows and
    takes); None for anything else (a numeric pk included) or someone outside the org."""
    user = get_user_model().objects.filter(public_id=str(user_id)).first()
    return member_row(organization=organization, user=user) if user is not None else None


def member_get_by_pk(*, organization: Organization, user_pk: int) -> MemberRow | None:
    """One member of the org by the user's database id (the UI's forms, never the API)."""
    user = get_user_model().objects.filter(pk=user_pk).first()
    return member_row(organization=organization, user=user) if user is not None else None


def former_member_get(*, organization: Organization, user_pk: int) -> Any | None:
    """A person this org once listed and who has since been removed (its own ``member.removed``
    entry, or their tenant role's, which listed them in every org the tenant had then); None
    for anyone else, so a user id that never was in the org tells nothing about whom it names
    (a tenant role that ended before the org existed never listed them there)."""
    user = get_user_model().objects.filter(pk=user_pk).first()
    if user is None:
        return None
    org_created = Organization.objects.filter(pk=organization.pk).values("created_at")[:1]
    removed = AuditEvent.objects.filter(
        Q(organization=organization) | Q(organization__isnull=True, created_at__gte=Subquery(org_created)),
        tenant_id=organization.tenant_id,
        action=A.MEMBER_REMOVED,
        target_type=user._meta.model_name,
        target_id=user.public_id,
    )
    return user if removed.exists() else None


def member_row(*, organization: Organization, user: Any) -> MemberRow | None:
    """``user`` as a member of the org; None when they do not reach it."""
    tenant_role, org_role = user_roles(user=user, tenant=Tenant(pk=organization.tenant_id), organization=organization)
    if tenant_role is None and org_role is None:
        return None
    joined = (
        OrgMembership.objects.filter(organization=organization, user=user).values_list("created_at", flat=True).first()
        or TenantMembership.objects.filter(tenant_id=organization.tenant_id, user=user)
        .values_list("created_at", flat=True)
        .first()
    )
    if joined is None:  # the membership was removed meanwhile
        return None
    return MemberRow(user=user, role=org_role, tenant_role=tenant_role, joined_at=joined)


def org_get_by_public_id(*, tenant_pk: int, public_id: str) -> Organization | None:
    """An org of one tenant by its public id (``org-<uuid>``), with the tenant loaded."""
    return Organization.objects.select_related("tenant").filter(tenant_id=tenant_pk, public_id=public_id).first()


def _open_invitations(organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organization=organization, accepted_at__isnull=True, revoked_at__isnull=True)


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """The org's invitations whose link works: neither used nor withdrawn, and sent (or last
    resent) by someone who may still grant them (``services.inviter_may_still_grant``, in one
    query: an active account managing the org's members, which grants every org role), and
    not through an API key now deactivated (``key_invitations.key_invitations_hold``)."""
    managers = Q(invited_by__in=TenantMembership.objects.filter(tenant_id=organization.tenant_id).values("user_id"))
    managers |= Q(
        invited_by__in=OrgMembership.objects.filter(organization=organization, role=roles.OrgRole.ADMIN).values(
            "user_id"
        )
    )
    return _open_invitations(organization).filter(managers, invited_by__is_active=True, key_deactivated=False)


def held_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """Open invitations whose inviter can no longer grant them for now (account deactivated,
    or deprovisioned by the tenant's directory), or sent through a key now deactivated: kept for their return, their links refused
    meanwhile, so never listed or counted as pending."""
    return _open_invitations(organization).exclude(pk__in=pending_invitations(organization=organization).values("pk"))


def invitation_get(*, organization: Organization, public_id: str) -> Invitation | None:
    """One invitation of this org by its public id, whatever its state (pending, accepted, revoked)."""
    return Invitation.objects.filter(organization=organization, public_id=public_id).first()


def invitation_digest(token: str) -> str:
    """Invitation tokens are stored as their SHA-256 digest, like API keys."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation a link points at (for the accept page), whatever its state."""
    return (
        Invitation.objects.select_related("organization__tenant", "invited_by")
        .filter(token_digest=invitation_digest(token or ""))
        .first()
    )


def tenants_left_without_owner(*, leaving: QuerySet[TenantMembership]) -> dict[Tenant, list[Any]]:
    """The tenants whose every owner who can sign in holds one of the ``leaving`` tenant
    roles, each with those owners: ending them together would leave the tenant without one
    (SPEC §1), though each alone might end. ``services.require_owner_remains``'s count, for
    many at once."""
    held: dict[Tenant, list[Any]] = {}
    for membership in (
        leaving.filter(role=roles.TenantRole.OWNER)
        .select_related("tenant", "user")
        .order_by("tenant__name", "user__email")
    ):
        held.setdefault(membership.tenant, []).append(membership.user)
    still_owned = set(
        TenantMembership.objects.filter(tenant__in=list(held), role=roles.TenantRole.OWNER, user__is_active=True)
        .exclude(pk__in=leaving.values("pk"))
        .values_list("tenant_id", flat=True)
    )
    return {tenant: owners for tenant, owners in held.items() if tenant.pk not in still_owned}
