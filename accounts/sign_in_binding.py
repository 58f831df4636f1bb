"""A sign-in's second step belongs to the password that started it, and to the sessions
then alive (SPEC §5, §8).

Changing the password, or signing out everywhere, is what a person does on learning someone
else knows it. A sign-in begun before (the JSON ``requires2FA`` token, the sign-in form's
pending 2FA step, after a password or a single sign-on) must not then be finished by whoever
began it, with a second factor they hold or obtain later (a stolen recovery code, a code read
over a shoulder). Both remember a stamp of the account, compared before any code is looked
at: Django's session hash (an HMAC of the password hash, what signs out sessions when the
password changes) and the account's sign-out generation, which every ending of all its
sessions moves (``accounts.services.sessions_end_all``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import F
from django.utils.crypto import constant_time_compare

from accounts.models import SignOutGeneration, UserSession


def sign_in_stamp(user: Any) -> str:
    """What a pending second step remembers of the account."""
    generation = SignOutGeneration.objects.filter(user_id=user.pk).values_list("number", flat=True).first()
    return f"{user.get_session_auth_hash()}:{generation or 0}"


def sign_in_still_current(user: Any, stamp: Any) -> bool:
    """Whether neither ``user``'s password changed nor all its sessions were ended since
    ``stamp`` was taken."""
    return isinstance(stamp, str) and bool(stamp) and constant_time_compare(stamp, sign_in_stamp(user))


def pending_sign_ins_end(user: Any) -> None:
    """Every sign-in of ``user`` still waiting for its second factor no longer completes."""
    SignOutGeneration.objects.get_or_create(user_id=user.pk)
    SignOutGeneration.objects.filter(user_id=user.pk).update(number=F("number") + 1)


def sign_out_lock_ahead(user: Any) -> None:
    """Lock the account's row and what ending all of ``user``'s sessions writes (its sign-out
    generation, then its sessions), for a change that writes audit entries before it ends them
    and saves the account after (a deprovisioning). The lock order: the account, its sign-out
    generation, its sessions, then the audit chain. A password change (the person's, a reset,
    an operator's) saves the account first and ends the sessions after; "sign out everywhere"
    and an operator's sign-out take the sign-out rows and the chain after them: taking any of
    these later deadlocks with them."""
    list(get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk"))
    SignOutGeneration.objects.get_or_create(user_id=user.pk)
    list(SignOutGeneration.objects.select_for_update().filter(user_id=user.pk).values_list("pk"))
    tracked = UserSession.objects.select_for_update().filter(user_id=user.pk).order_by("pk")
    keys = list(tracked.values_list("session_key", flat=True))
    list(Session.objects.select_for_update().filter(session_key__in=keys).order_by("pk").values_list("pk"))


def still_current_locked(user: Any, stamp: Any) -> bool:
    """``sign_in_still_current`` again, in the transaction that makes a pending sign-in's
    session, with the account's row and its sign-out generation locked (the sign-out rows'
    order above): a change landing between the second step's first check and the session (a
    factor removed, "sign out everywhere", a deactivation) either waits and then finds the
    session to end, or moved the stamp first and the sign-in is refused. Also refused once
    the account is off or gone."""
    fresh = sign_out_rows_lock(user)
    return fresh is not None and fresh.is_active and sign_in_still_current(fresh, stamp)


def sign_out_rows_lock(user: Any) -> Any | None:
    """Lock the account's row, then its sign-out generation (the order above), for a change
    that must not cross an ending of all its sessions; the account as stored, None if gone."""
    fresh = get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if fresh is not None:
        SignOutGeneration.objects.get_or_create(user_id=user.pk)
        list(SignOutGeneration.objects.select_for_update().filter(user_id=user.pk).values_list("pk"))
    return fresh
