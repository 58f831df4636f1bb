"""The tenant directory's Users: POST/PUT/PATCH/DELETE /Users (scim.services.provisioning
does what they mean for the accounts; scim.services.directory lists the tenant's members)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit import registry as A
from audit.services import audit_record
from orgs.models import Tenant
from scim import selectors
from scim.documents import UserDoc
from scim.models import ScimGroup, ScimGroupMember, ScimUser
from scim.services.common import Versions, diff, refuse_secrets, require_version, taken
from scim.services.provisioning import (
    account_for,
    address_assert,
    change_account_email,
    inherit_deactivation,
    keys_lock_ahead,
    push_profile,
    reconcile,
    suspend,
)
from tater.emails import normalize_email


def _user_state(identity: ScimUser) -> dict[str, Any]:
    return {
        "userName": identity.user_name,
        "externalId": identity.external_id,
        "active": identity.active,
        **identity.attributes,
    }


def _doc_state(doc: UserDoc) -> dict[str, Any]:
    """What ``_user_state`` will audit of ``doc``'s text."""
    return {"userName": doc.user_name, "externalId": doc.external_id, **doc.attributes()}


@transaction.atomic
def scim_user_create(*, tenant: Tenant, doc: UserDoc) -> ScimUser:
    """POST /Users: a new User in the tenant's directory, and its account (the scim.services
    docstring says when an account is created, linked, or the User stays pending)."""
    refuse_secrets({}, _doc_state(doc))
    key = normalize_email(doc.user_name)
    if selectors.scim_users(tenant=tenant).filter(user_name_key=key).exists():
        raise taken("A User with this userName already exists")
    account, how = account_for(tenant, doc.user_name)
    if account is not None and selectors.scim_users(tenant=tenant).filter(user=account).exists():
        raise taken("This person is already in the directory under another userName")
    identity = ScimUser(
        tenant=tenant,
        user=account,
        user_name=doc.user_name,
        user_name_key=key,
        external_id=doc.external_id,
        active=doc.active,
        attributes=doc.attributes(),
    )
    inherit_deactivation(identity)
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:
        raise taken("A User with this userName already exists") from None
    effects = reconcile(identity) + address_assert(identity)
    renamed = push_profile(identity)
    identity.save()
    audit_record(
        action=A.SCIM_USER_CREATED,
        tenant=tenant,
        target=identity,
        changes={
            **diff({}, _user_state(identity)),
            "account": how,
            "effects": effects,
            **({"account_name": renamed} if renamed else {}),
        },
    )
    return identity


@transaction.atomic
def scim_user_update(
    *,
    identity: ScimUser,
    change: Callable[[ScimUser], UserDoc],
    if_match: Versions = None,
    if_none_match: Versions = None,
) -> ScimUser:
    """PUT or PATCH /Users/{id}: the User becomes ``change(current)``, computed under the
    row lock (two PATCHes never lose each other's change). ``active`` false deprovisions,
    true (or unassigned) after false reprovisions."""
    identity = ScimUser.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=identity.pk)
    require_version(identity.version, if_match, if_none_match)
    doc = change(identity)
    tenant = identity.tenant
    before = _user_state(identity)
    refuse_secrets(before, _doc_state(doc))
    was_active = identity.active is not False
    key = normalize_email(doc.user_name)
    if key != identity.user_name_key and selectors.scim_users(tenant=tenant).filter(user_name_key=key).exists():
        raise taken("A User with this userName already exists")
    extra: dict[str, Any] = {}
    if identity.user is not None and doc.active is not False and not was_active:
        # Reprovisioning may revoke kept keys: take them before anything below saves the account.
        keys_lock_ahead(identity)
    if identity.user is not None and key != identity.user_name_key:
        # Another spelling of the same address moves nothing (SPEC §8); a User linked by a
        # verified additional address would otherwise have the account's email moved to it.
        moved = change_account_email(identity, doc.user_name)
        if moved:
            extra["account_email"] = moved
    identity.user_name, identity.user_name_key = doc.user_name, key
    identity.external_id, identity.active, identity.attributes = doc.external_id, doc.active, doc.attributes()
    linked = False
    if identity.user is None:
        account, how = account_for(tenant, doc.user_name)
        if account is not None and not selectors.scim_users(tenant=tenant).filter(user=account).exists():
            identity.user, linked = account, True
            inherit_deactivation(identity)
            extra["account"] = how
            # Saved before reconciling: the memberships its groups grant announce a joiner this
            # User stands for (scim.services.directory), not one to list a second time.
            identity.save()
    now_active = identity.active is not False
    effects = reconcile(identity) if linked or was_active != now_active else []
    if linked or "account_email" in extra or (now_active and not was_active):
        effects += address_assert(identity)
    renamed = push_profile(identity)
    if renamed:
        extra["account_name"] = renamed
    changes = diff(before, _user_state(identity))
    if not changes and not extra:
        return identity
    if changes or extra.keys() - {"account_name"}:
        identity.version += 1  # the resource changed, not only the account behind it
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
def scim_user_delete(*, identity: ScimUser, if_match: Versions = None, if_none_match: Versions = None) -> None:
    """DELETE /Users/{id}: deprovision, leave every group, and disappear from the directory
    (a 404 from now on). The row stays, so provisioning the person again is recognised."""
    identity = ScimUser.objects.select_for_update(of=("self",)).select_related("tenant", "user").get(pk=identity.pk)
    require_version(identity.version, if_match, if_none_match)
    effects = suspend(identity, deleted=True) if identity.user is not None else []
    now = timezone.now()
    ScimGroup.objects.filter(memberships__identity=identity).update(version=F("version") + 1, updated_at=now)
    ScimGroupMember.objects.filter(identity=identity).delete()
    identity.deleted_at = now
    identity.save()
    audit_record(
        action=A.SCIM_USER_DELETED,
        tenant=identity.tenant,
        target=identity,
        changes={"userName": {"from": identity.user_name}, "effects": effects},
    )
