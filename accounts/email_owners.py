"""Which accounts hold an address, under any of its spellings (SPEC §8).

allauth compares an address it adds with the others lower-cased only, and a User's unique
``email_canonical`` covers primary addresses only: ``strasse@x.test`` could be added to one
account while another held ``straße@x.test`` as an additional address, though Tater treats
the two as one address everywhere (sign-in, invitations, audit). Every path that gives an
account an address (the email page, sign-up, SSO provisioning, the admin) asks here first.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Q

from tater.emails import lowered_local_parts, normalize_email


def address_holders(email: str | None) -> set[Any]:
    """The pks of the accounts holding ``email``, as their primary or an additional address
    (verified or not, as allauth's own uniqueness check counts it), under any spelling."""
    key = normalize_email(email)
    if not key or "@" not in key:
        return set()
    holders = set(get_user_model().objects.filter(email_canonical=key).values_list("pk", flat=True))
    # allauth stores an address lower-cased: look for every local part that folds to the
    # key's, then keep the rows whose whole address (its domain through IDNA) is the key.
    near = Q()
    for local in lowered_local_parts(key):
        near |= Q(email__startswith=f"{local}@")
    rows = EmailAddress.objects.filter(near).values_list("user_id", "email")
    holders.update(user_id for user_id, stored in rows if normalize_email(stored) == key)
    return holders


def held_by_another(email: str | None, user: Any | None = None) -> bool:
    """Does an account other than ``user`` hold ``email`` under any spelling?"""
    pk = getattr(user, "pk", None)
    return any(holder != pk for holder in address_holders(email))
