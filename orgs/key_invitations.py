"""Invitations sent (or last resent) through an API key follow the key (docs/authorization.md:
an invitation sent through a key dies with the key; a deactivated key's are on hold). The key
is named by its pk (``Invitation.sent_through_key_pk``): apikeys sits above orgs and calls
these as it revokes, deactivates or reactivates a key, in its transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from orgs import policy, signals
from orgs.models import Invitation, Tenant
from orgs.services import invitation_revoked


def key_pk_vouching(who: policy.Actor) -> int | None:
    """The API key an invitation is (re)sent through (its pk; None from a session, the admin,
    SCIM), locked until the transaction ends and still usable (apikeys' receiver of
    ``signals.key_vouch_ahead`` refuses one revoked or deactivated since the request's key
    check): called before the invitation is locked or written, as a revocation takes the key
    before its invitations."""
    if who.credential is None:
        return None
    signals.key_vouch_ahead.send(sender=Invitation, tenant_pk=who.tenant_pk, key_pk=who.credential.key_pk)
    return who.credential.key_pk


@transaction.atomic
def key_invitations_withdraw(*, tenant: Tenant, key_pk: int, key_id: str, actor: Any | None, why: str = "") -> int:
    """Withdraw (audited) the pending invitations sent or last resent through the API key
    ``key_pk`` (public id ``key_id``), as it is revoked (``apikeys.services.apikey_revoke``,
    every channel, in its transaction; ``why``: its reason, e.g. ``leaked``). An invitation
    grants its role on the key's behalf: a finder of a leaked key who invited an address of
    theirs must not join once the key is dead. A deactivation (reversible) withdraws nothing."""
    pending = list(
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization__tenant")
        .filter(organization__tenant=tenant, sent_through_key_pk=key_pk, accepted_at__isnull=True)
        .filter(revoked_at__isnull=True)
        .order_by("pk")
    )
    reason = f"sent through API key {key_id}, since revoked" + (f" ({why})" if why else "")
    for invitation in pending:
        invitation_revoked(invitation=invitation, organization=invitation.organization, actor=actor, reason=reason)
    return len(pending)


def key_invitations_hold(*, tenant: Tenant, key_pk: int, held: bool) -> int:
    """Hold (``held``) or release the pending invitations sent or last resent through the API
    key ``key_pk`` as it is deactivated or reactivated (``apikeys.services.apikey_set_active``,
    in its transaction): a deactivated key admits nobody, its invitations neither (their links
    are refused, they are listed on hold); a deactivation is reversible, so nothing is withdrawn."""
    pending = Invitation.objects.filter(
        organization__tenant=tenant, sent_through_key_pk=key_pk, accepted_at__isnull=True, revoked_at__isnull=True
    )
    return pending.exclude(key_deactivated=held).update(key_deactivated=held)
