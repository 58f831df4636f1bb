"""Which account an address names, and which accounts hold it, under any of its spellings
(SPEC §8: addresses compare after NFKC + case folding).

A User's unique ``email_canonical`` covers primary addresses only; allauth's
``EmailAddress`` rows hold every address, lower-cased only, so ``strasse@x.test`` could be
added to one account while another held ``straße@x.test`` as an additional address, though
Tater treats the two as one address everywhere (sign-in, invitations, audit). Every path
that gives an account an address (the email page, sign-up, SSO provisioning, SCIM, the
admin, operators' commands) and every path that finds an account by an address asks here.
It lives in ``orgs`` (below ``accounts``) because operators name a tenant's owner by address.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Q

from orgs.models import OrgMembership, TenantMembership
from tater.emails import lowered_local_parts, normalize_email


def user_by_email(email: str | None) -> Any | None:
    """The account whose primary address this is, compared after NFKC + case folding through
    the unique ``email_canonical`` column: every spelling finds the same one account.
    Never ``iexact``: the database's own folding (PostgreSQL's UPPER() folds ``ſ`` to
    ``S``) would let a spelling reach an account the rest of Tater counts as another."""
    key = normalize_email(email)
    if not key:
        return None
    return get_user_model().objects.filter(email_canonical=key).first()


def account_holding(email: str | None) -> Any | None:
    """The account an address reaches: the one whose primary address it is, else one holding
    it as an additional address, a verified one first (one address, one account: the paths
    above keep a second from taking it). The sign-in form and the JSON sign-ins accept every
    such address, as allauth does (verified or not), and count failures against the account;
    operators name a tenant's owner by it (then asking whether the account proved it)."""
    user = user_by_email(email)
    if user is not None:
        return user
    rows = sorted(_additional(normalize_email(email)), key=lambda row: (not row[2], row[0]))
    return get_user_model().objects.filter(pk=rows[0][1]).first() if rows else None


def address_owner(email: str | None) -> Any | None:
    """The person an address names, for a tenant's directory (SCIM): the account whose
    primary address it is, else the one account holding it as a verified additional address
    (it proved it holds the mailbox). None when nobody does, when it is held unverified only
    (anyone may add any address to their account), or when several accounts hold it verified
    (made before the paths above refused that: which one is that person is theirs to settle)."""
    user = user_by_email(email)
    if user is not None:
        return user
    owners = {user_id for _, user_id, verified in _additional(normalize_email(email)) if verified}
    return get_user_model().objects.filter(pk=owners.pop()).first() if len(owners) == 1 else None


def address_holders(email: str | None) -> set[Any]:
    """The pks of the accounts holding ``email``, as their primary or an additional address
    (verified or not, as allauth's own uniqueness check counts it), under any spelling."""
    key = normalize_email(email)
    holders = set(get_user_model().objects.filter(email_canonical=key).values_list("pk", flat=True)) if key else set()
    holders.update(user_id for _, user_id, _ in _additional(key))
    return holders


def unproved_holds(email: str | None, *, outside: Any) -> list[int]:
    """The pks of the address rows holding ``email`` (any spelling) unverified, as an address
    added to an account whose sign-in address it is not, of accounts that do not belong to
    the tenant ``outside``: anyone may add any address to their account, so such a row proves
    nothing (a member's may be the person's own, still to verify: not counted here)."""
    key = normalize_email(email)
    rows = [(pk, user_id) for pk, user_id, verified in _additional(key) if not verified]
    if not rows:
        return []
    kept = set(
        get_user_model()
        .objects.filter(pk__in={user_id for _, user_id in rows})
        .filter(
            Q(email_canonical=key)
            | Q(pk__in=TenantMembership.objects.filter(tenant=outside).values("user_id"))
            | Q(pk__in=OrgMembership.objects.filter(organization__tenant=outside).values("user_id"))
        )
        .values_list("pk", flat=True)
    )
    return [pk for pk, user_id in rows if user_id not in kept]


def held_by_another(email: str | None, user: Any | None = None) -> bool:
    """Does an account other than ``user`` hold ``email`` under any spelling?"""
    pk = getattr(user, "pk", None)
    return any(holder != pk for holder in address_holders(email))


def shared_addresses() -> list[dict[str, Any]]:
    """The addresses more than one account holds under some spelling, each with its accounts
    (how each holds it: primary or not, verified or not), for ``manage.py shared_addresses``.
    The paths above refuse a new one; accounts made before they did may share one. Reads
    every account and address once (memory in proportion to the addresses)."""
    held: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)
    users = get_user_model().objects.values_list("pk", "public_id", "email", "email_canonical")
    for pk, public_id, email, key in users.iterator():
        held[key][pk] = {"user_id": public_id, "email": email, "primary": True, "verified": False}
    rows = EmailAddress.objects.values_list("user_id", "user__public_id", "email", "verified")
    for pk, public_id, email, verified in rows.iterator():
        holding = held[normalize_email(email)].setdefault(
            pk, {"user_id": public_id, "email": email, "primary": False, "verified": False}
        )
        holding["verified"] = holding["verified"] or verified
    return [
        {"address": key, "accounts": sorted(accounts.values(), key=lambda h: (not h["primary"], h["user_id"]))}
        for key, accounts in sorted(held.items())
        if len(accounts) > 1
    ]


def _additional(key: str) -> list[tuple[int, Any, bool]]:
    """``(row pk, user pk, verified)`` of the address rows whose address is ``key`` (a
    ``normalize_email`` result). allauth stores an address lower-cased: look for every local
    part that folds to the key's, then keep the rows whose whole address (its domain
    through IDNA) is the key."""
    if not key or "@" not in key:
        return []
    near = Q()
    for local in lowered_local_parts(key):
        near |= Q(email__startswith=f"{local}@")
    rows = EmailAddress.objects.filter(near).values_list("pk", "user_id", "verified", "email")
    return [(pk, user_id, verified) for pk, user_id, verified, stored in rows if normalize_email(stored) == key]
