"""The tenant directory's Groups: POST/PUT/PATCH/DELETE /Groups, and the tenant owner's
mapping of a group to an organization and a role. Members of a mapped group gain or lose
its role at once (scim.services.provisioning.apply_groups)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from audit import registry as A
from audit.services import audit_record
from orgs import policy, roles
from orgs.models import Organization, Tenant
from orgs.selectors import as_actor
from scim import selectors
from scim.documents import GroupDoc
from scim.models import ScimGroup, ScimGroupMember, ScimUser
from scim.services.common import DirectoryError, Versions, diff, refuse_secrets, require_version, taken
from scim.services.provisioning import apply_groups, keys_lock_ahead
from tater.emails import fold
from tater.exceptions import InvalidInput, ObjectNotFound

AUDIT_LIST_LIMIT = 100  # ids listed in one audit entry; the count is always complete


def _member_pks(tenant: Tenant, ids: tuple[str, ...]) -> dict[str, int]:
    """The row ids of the directory's Users ``ids`` names (a 400 for one it does not hold):
    ids alone, as a membership row needs no more (a 10,000-member POST loaded every member's
    profile and account, seconds of work)."""
    found = dict(selectors.scim_users(tenant=tenant).filter(public_id__in=ids).values_list("public_id", "pk"))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise DirectoryError(f"No User with id {unknown[0]!r} in this directory")
    return found


def _rows(pks: Any) -> list[ScimUser]:
    """Members whose roles a mapped group decides (_regrant reads them)."""
    return list(ScimUser.objects.select_related("tenant").filter(pk__in=list(pks)).order_by("pk"))


def _listed(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "ids": ids[:AUDIT_LIST_LIMIT]}


def _lock_members(identities: Any) -> None:
    """The members' Users (in id order, as a User's own change takes its row first), then
    what their removals take (keys_lock_ahead): before any entry is written."""
    list(
        ScimUser.objects.select_for_update(of=("self",))
        .filter(pk__in=[i.pk for i in identities])
        .order_by("pk")
        .values_list("pk")
    )
    keys_lock_ahead(*identities)


def _regrant(identities: Any) -> None:
    # Roles a group no longer grants end with their keys: every member's first (provisioning).
    _lock_members(identities)
    for identity in identities:
        if identity.user_id is not None and identity.active is not False and identity.deleted_at is None:
            locked = (
                ScimUser.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=identity.pk)
            )
            apply_groups(locked)
            locked.save(update_fields=["granted_roles", "hand_roles", "decided_memberships"])


@transaction.atomic
def scim_group_create(*, tenant: Tenant, doc: GroupDoc) -> ScimGroup:
    refuse_secrets({}, {"displayName": doc.display_name, "externalId": doc.external_id})
    key = fold(doc.display_name)
    if ScimGroup.objects.filter(tenant=tenant, display_name_key=key).exists():
        raise taken("A Group with this displayName already exists")
    members = _member_pks(tenant, doc.member_ids)
    try:
        with transaction.atomic():
            group = ScimGroup.objects.create(
                tenant=tenant, display_name=doc.display_name, display_name_key=key, external_id=doc.external_id
            )
    except IntegrityError:
        raise taken("A Group with this displayName already exists") from None
    ScimGroupMember.objects.bulk_create(ScimGroupMember(group=group, identity_id=members[i]) for i in doc.member_ids)
    audit_record(
        action=A.SCIM_GROUP_CREATED,
        tenant=tenant,
        target=group,
        changes={
            "displayName": {"to": doc.display_name},
            "externalId": {"to": doc.external_id},
            "members_added": _listed(list(doc.member_ids)),
        },
    )
    return group


@transaction.atomic
def scim_group_update(
    *,
    group: ScimGroup,
    change: Callable[[ScimGroup, list[str]], GroupDoc],
    if_match: Versions = None,
    if_none_match: Versions = None,
) -> ScimGroup:
    """PUT or PATCH /Groups/{id}: name and members become ``change(current, member ids)``'s,
    computed under the row lock (concurrent member PATCHes, as Entra ID sends them, never
    lose each other's members); members of a mapped group gain or lose its role at once."""
    group = ScimGroup.objects.select_for_update(of=("self",)).select_related("tenant", "organization").get(pk=group.pk)
    require_version(group.version, if_match, if_none_match)
    tenant = group.tenant
    current = selectors.group_member_ids(group=group)
    doc = change(group, current)
    refuse_secrets(
        {"displayName": group.display_name, "externalId": group.external_id},
        {"displayName": doc.display_name, "externalId": doc.external_id},
    )
    key = fold(doc.display_name)
    if key != group.display_name_key and ScimGroup.objects.filter(tenant=tenant, display_name_key=key).exists():
        raise taken("A Group with this displayName already exists")
    before, after = set(current), set(doc.member_ids)  # once: per member, a large group took seconds
    added = [i for i in doc.member_ids if i not in before]
    removed = [i for i in current if i not in after]
    joining = _member_pks(tenant, tuple(added))
    changes: dict[str, Any] = diff(
        {"displayName": group.display_name, "externalId": group.external_id},
        {"displayName": doc.display_name, "externalId": doc.external_id},
    )
    if added:
        changes["members_added"] = _listed(added)
    if removed:
        changes["members_removed"] = _listed(removed)
    if not changes:
        return group
    leaving = list(ScimUser.objects.filter(tenant=tenant, public_id__in=removed).values_list("pk", flat=True))
    ScimGroupMember.objects.filter(group=group, identity_id__in=leaving).delete()
    ScimGroupMember.objects.bulk_create(ScimGroupMember(group=group, identity_id=joining[i]) for i in added)
    group.display_name, group.display_name_key, group.external_id = doc.display_name, key, doc.external_id
    group.version += 1
    group.save()
    if group.is_mapped:
        _regrant(_rows([*joining.values(), *leaving]))
    audit_record(
        action=A.SCIM_GROUP_UPDATED, tenant=tenant, organization=group.organization, target=group, changes=changes
    )
    return group


@transaction.atomic
def scim_group_delete(*, group: ScimGroup, if_match: Versions = None, if_none_match: Versions = None) -> None:
    """DELETE /Groups/{id}: members of a mapped group lose the role it granted."""
    group = ScimGroup.objects.select_for_update(of=("self",)).select_related("tenant", "organization").get(pk=group.pk)
    require_version(group.version, if_match, if_none_match)
    former_ids = list(group.memberships.order_by("id").values_list("identity_id", "identity__public_id"))
    mapped = group.is_mapped
    former = _rows(pk for pk, _ in former_ids) if mapped else []
    if mapped:
        _lock_members(former)  # before the entry below: the members' removals revoke keys
    audit_record(
        action=A.SCIM_GROUP_DELETED,
        tenant=group.tenant,
        organization=group.organization,
        target=group,
        changes={
            "displayName": {"from": group.display_name},
            "members_removed": _listed([public_id for _, public_id in former_ids]),
        },
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
        action=A.SCIM_GROUP_MAPPED,
        tenant=group.tenant,
        organization=organization,
        target=group,
        changes=diff(before, after),
        actor_user=who.user,
    )
    return group
