"""A person the tenant's directory deprovisioned (``active: false``) whom an admin gives a role in
the tenant again by hand (members API or page, an invitation accepted, the admin) while the
directory still has them deprovisioned: the keys deprovisioning kept for their return are
revoked (``api_key.revoked``, reason ``owner removed``, in the re-add's channel and under its
actor's name), and the roles it remembered are forgotten, so the identity provider's
reprovisioning later starts fresh. Only that reprovisioning revives kept keys (those its groups
reach again, docs/scim.md §4); a role given again by hand revives none, as after any removal
(SPEC §2: "removing the owner ... kills the key"). Keys made after the re-add are the person's.

Receiver of ``orgs.signals.member_join_ahead``, sent before the join locks anything: the
person's Users (whatever their state: a join by hand and the directory's change of that person
come one after the other, never interleaved), then the tenant, memberships and keys
(``provisioning.keys_lock_ahead``), then the audit chain, the order a directory's change of that
person and a key change take them.
"""

from __future__ import annotations

from typing import Any

from apikeys import narrowing
from apikeys import reactions as key_reactions
from orgs.members import KEY_GONE_NOTHING_DONE
from orgs.models import OrgMembership, Tenant, TenantMembership
from scim.models import ScimUser
from scim.services import provisioning


def member_join_ahead(
    *, tenant: Tenant, user: Any, actor: Any = None, through_key_pk: int | None = None, **kwargs: Any
) -> None:
    """``through_key_pk``: the API key the join goes through (``orgs.members``), locked before
    the kept keys' revocations write to the audit chain, as a revocation of that key (a leak)
    takes the key, then the audit chain; one that came first refuses the join."""
    if provisioning.grouping():
        return  # the directory's own grant (reprovisioning, a group): it decides the kept keys
    # The person's Users, locked whatever their state: a directory deprovisioning them at this
    # instant read their roles before ending them, so a join it could not see survived it. The
    # join now waits for that change (and a later one for the join): one comes after the other.
    rows = ScimUser.objects.select_for_update(of=("self",)).select_related("tenant")
    locked = list(rows.filter(tenant=tenant, user_id=user.pk, deleted_at__isnull=True).order_by("pk"))
    returning = [identity for identity in locked if identity.active is False and identity.suspended_roles]
    if not returning:
        return
    provisioning.keys_lock_ahead(*returning)
    if (
        TenantMembership.objects.filter(tenant=tenant, user_id=user.pk).exists()
        or OrgMembership.objects.filter(organization__tenant=tenant, user_id=user.pk).exists()
    ):
        return  # not a return: holding a role already (given back before this was so)
    if through_key_pk is not None:  # before the audit chain (the leak's order: key, then chain)
        narrowing.key_locked_usable(through_key_pk, nothing_done=KEY_GONE_NOTHING_DONE)
    # Holding no role here, every unrevoked key of theirs in the tenant is one the directory kept.
    key_reactions.keys_revoke_unreached(tenant=tenant, user=user, actor=actor)
    ScimUser.objects.filter(pk__in=[identity.pk for identity in returning]).update(suspended_roles={})
