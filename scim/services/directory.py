"""Who the tenant's directory lists before the identity provider says anything: its members.

The identity provider looks people up (``userName eq …``) before creating them, so the
tenant's existing members must be Users of its directory, or they would be created twice.
They are listed by writes, each audited, never by a read (a ``GET`` writes nothing, and does
no work per member, SPEC §12):

- the tenant's first SCIM token seeds the directory from its members (one
  ``scim_directory.seeded`` entry with the count);
- a person given a membership in a tenant with a directory (one that ever had a SCIM token)
  is listed as they join (``scim_user.listed``), or, when a pending User has their address,
  linked to it (``scim_user.linked``, its groups apply);
- ``manage.py seed_scim_directories`` seeds the directories created before this was so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError, connection, transaction

from audit import registry as A
from audit.services import audit_record
from orgs import email_owners
from orgs.models import Tenant
from scim import selectors
from scim.models import ScimToken, ScimUser
from scim.services.provisioning import address_assert, push_profile, reconcile
from tater.emails import normalize_email

AUDIT_LIST_LIMIT = 100  # ids listed in the seeding's entry; the count is always complete
LISTING_LOCK_WAIT = "200ms"  # a join's listing waits this long for a busy row, then follows the join


def has_directory(tenant: Tenant | int) -> bool:
    return ScimToken.objects.filter(tenant=tenant).exists()


def _new_user(tenant: Tenant, user: Any) -> ScimUser:
    name = {k: v for k, v in (("givenName", user.first_name), ("familyName", user.last_name)) if v}
    attributes: dict[str, Any] = {"emails": [{"value": user.email, "type": "work", "primary": True}]}
    if name:
        attributes["name"] = name
    return ScimUser(
        tenant=tenant,
        user=user,
        user_name=user.email,
        user_name_key=normalize_email(user.email),
        active=user.is_active,
        attributes=attributes,
    )


def _link(pending: ScimUser, user: Any) -> None:
    """The pending User with the person's address stands for their account from now on."""
    pending.user = user
    # Saved first: the memberships its groups now grant announce a joiner the directory holds.
    pending.save(update_fields=["user"])
    effects = reconcile(pending) + address_assert(pending)
    renamed = push_profile(pending)
    pending.version += 1
    pending.save()
    audit_record(
        action=A.SCIM_USER_LINKED,
        tenant=pending.tenant,
        target=pending,
        changes={"account": {"to": user.email}, "effects": effects, **({"account_name": renamed} if renamed else {})},
    )


def _add(tenant: Tenant, user: Any) -> ScimUser | None:
    """List ``user``: link the pending User with their address, else a new User (returned).
    Nothing when the directory holds them already, or another account's User has the address."""
    if ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True, user=user).exists():
        return None
    same = (
        ScimUser.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(tenant=tenant, deleted_at__isnull=True, user_name_key=normalize_email(user.email))
        .first()
    )
    if same is not None:
        if same.user is None:
            _link(same, user)
        return None
    pending = _pending_for_other_address(tenant, user)
    if pending is not None:
        _link(pending, user)
        return None
    identity = _new_user(tenant, user)
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError:  # listed by a concurrent change
        return None
    return identity


def _pending_for_other_address(tenant: Tenant, user: Any) -> ScimUser | None:
    """The pending User whose userName is one of the account's verified additional addresses
    (any spelling, SPEC §8), as a POST of it would link them: the IdP's User must reach the
    person. Never one another account names (its primary, or verified by several)."""
    primary = normalize_email(user.email)
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    keys = {normalize_email(address) for address in verified} - {primary}
    if not keys:
        return None
    candidates = (
        ScimUser.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(tenant=tenant, deleted_at__isnull=True, user__isnull=True, user_name_key__in=keys)
        .order_by("pk")
    )
    for pending in candidates:
        owner = email_owners.address_owner(pending.user_name)
        if owner is not None and owner.pk == user.pk:
            return pending
    return None


def directory_seed(*, tenant: Tenant, actor: Any = None) -> int:
    """List every member of ``tenant`` the directory does not hold yet (the caller holds the
    tenant row: two seedings queue); one audit entry with the count. Returns how many."""
    held = ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True, user__isnull=False).values("user_id")
    members = list(selectors.tenant_members(tenant=tenant).exclude(pk__in=held).order_by("pk"))
    listed: list[ScimUser] = []
    if not ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True).exists():
        # An empty directory (a first token): nothing to link or collide with, one insert.
        listed = ScimUser.objects.bulk_create([_new_user(tenant, user) for user in members], batch_size=500)
    else:
        listed = [identity for user in members if (identity := _add(tenant, user)) is not None]
    if listed:
        ids = [identity.public_id for identity in listed]
        audit_record(
            action=A.SCIM_DIRECTORY_SEEDED,
            tenant=tenant,
            target=tenant,
            changes={"users": {"count": len(ids), "ids": ids[:AUDIT_LIST_LIMIT]}},
            actor_user=actor,
        )
    return len(listed)


def directories_seed() -> dict[str, int]:
    """``manage.py seed_scim_directories``: seed the directory of every tenant that has one
    (tenant public id → how many were listed; tenants with nobody to list are left out)."""
    seeded: dict[str, int] = {}
    for pk in ScimToken.objects.order_by("tenant_id").values_list("tenant_id", flat=True).distinct():
        with transaction.atomic():  # one tenant at a time: its joins wait for this one only
            tenant = Tenant.objects.select_for_update(no_key=True).get(pk=pk)
            count = directory_seed(tenant=tenant)
        if count:
            seeded[tenant.public_id] = count
    return seeded


def member_joined(*, tenant: Tenant, user: Any, **kwargs: Any) -> None:
    """``orgs.signals.member_joined``: list the person in the tenant's directory, in the join's
    transaction when nothing it needs is busy, else once the join commits (``_list_joined``)."""
    # The join holds its audit entry (the chain) by now, while an IdP change of the User with
    # this address (a PATCH, a POST creating it, a group change) takes that User, then the
    # tenant, memberships and keys, then the chain: waiting here for any of those deadlocked
    # with it (a 500 for the admin or a 503 for the IdP). No lock on the tenant row to wait
    # for a first token's seeding in flight either (a tenant role or policy change holds it,
    # then needs the chain). Someone whose listing fails even then is listed by the IdP's next
    # change of their User (it links a member's account) or by ``manage.py seed_scim_directories``.
    if not has_directory(tenant):
        return
    try:
        with _without_waiting(), transaction.atomic():
            _list(tenant, user)
    except OperationalError:  # busy: the concurrent change is let through, the listing follows it
        transaction.on_commit(lambda: _list_joined(tenant.pk, user.pk), robust=True)


@contextmanager
def _without_waiting() -> Iterator[None]:
    """A lock held by another transaction fails the statement within ``LISTING_LOCK_WAIT``
    instead of being waited for (PostgreSQL; SQLite runs one writer at a time)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (previous,) = cursor.fetchone()
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LISTING_LOCK_WAIT])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _list(tenant: Tenant, user: Any) -> None:
    identity = _add(tenant, user)
    if identity is not None:
        audit_record(
            action=A.SCIM_USER_LISTED,
            tenant=tenant,
            target=identity,
            changes={"userName": {"to": identity.user_name}, "account": user.email},
        )


def _list_joined(tenant_pk: int, user_pk: int) -> None:
    with transaction.atomic():
        tenant = Tenant.objects.get(pk=tenant_pk)
        user = get_user_model().objects.get(pk=user_pk)
        # Gone again before this ran: nothing to list.
        if selectors.tenant_members(tenant=tenant).filter(pk=user.pk).exists():
            _list(tenant, user)
