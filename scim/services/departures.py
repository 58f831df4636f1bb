"""A person removed by hand (members API or page, the admin, an account's deletion: not a
directory) from the last tenant holding them, after the directory of the tenant whose verified
domain holds their address let them go: that deprovisioning takes effect now, as it does when
the last tenant lets them go through its own directory (``provisioning.suspend``). The account
is deactivated (a platform operator's is signed out), audited in the removing tenant, and only
the domain owner's reprovisioning turns it on again (SPEC §8, §13).

Receivers of ``orgs.signals.member_leave_ahead`` and ``member_left``; a directory's own
deprovisioning decides the account itself, so they stand by during it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from accounts import domains
from accounts import services as account_services
from accounts.sign_in_binding import sign_out_lock_ahead
from audit import registry as A
from audit.services import audit_record
from orgs import policy
from orgs.models import Organization, Tenant
from scim import selectors
from scim.models import ScimUser
from scim.services import provisioning

VIA = "domain_owner_let_go"


def _assigned_here(tenant: Tenant, user: Any) -> bool:
    """The tenant's directory still assigns the person (its User is not deprovisioned): the
    tenant holds them whatever its admin removes by hand (docs/scim.md §5)."""
    rows = ScimUser.objects.filter(tenant=tenant, user=user, deleted_at__isnull=True)
    return rows.exclude(active=False).exists()


def member_leave_ahead(*, tenant: Tenant, user: Any, **kwargs: Any) -> None:
    """Before the removal locks the tenant row or the membership: the domain owner's Users of
    the person, then (when that directory let them go) the account and its sign-out rows, in
    the order a directory's change takes them (``provisioning.operator_write_ahead``)."""
    if provisioning.deprovisioning() or _assigned_here(tenant, user):
        return
    stored = get_user_model().objects.filter(pk=user.pk).values_list("email", "is_active").first()
    if stored is None or not stored[1]:
        return
    claim = domains.verified_domain(domains.email_domain(stored[0]))
    if claim is None or not ScimUser.objects.filter(tenant_id=claim.tenant_id, user_id=user.pk).exists():
        return
    if provisioning.domain_owner_let_go(user):  # its Users locked: their state holds till commit
        sign_out_lock_ahead(user)


def member_left(*, tenant: Tenant, user: Any, organization: Organization | None, actor: Any, **kwargs: Any) -> None:
    if provisioning.deprovisioning():
        return
    user = get_user_model().objects.filter(pk=user.pk).first()
    if user is None or not user.is_active or selectors.any_tenant_holds(user=user):
        return
    let_go = provisioning.domain_owner_let_go(user)
    if not let_go:
        return
    remover = actor.user if isinstance(actor, policy.Actor) else actor
    if provisioning.is_operator(user):
        # The operators' own account: signed out, never switched off by a tenant (as ``suspend``).
        ended = account_services.sessions_end_all(user=user)
        changes: dict[str, Any] = {"via": VIA, "sessions_ended": ended}
        audit_record(action=A.USER_SESSIONS_ENDED, tenant=tenant, target=user, changes=changes, actor_user=remover)
        return
    provisioning.account_deactivate(user, let_go=let_go)
    changes = {"is_active": {"from": True, "to": False}, "via": VIA, "effects": ["account_deactivated"]}
    audit_record(action=A.USER_DEACTIVATED, tenant=tenant, target=user, changes=changes, actor_user=remover)
