"""A sign-in's second step belongs to the password that started it (SPEC §5, §8).

Changing the password is what a person does on learning someone else knows it. A sign-in
begun with the old one (the JSON ``requires2FA`` token, the sign-in form's pending 2FA
step) must not then be finished by whoever began it, with a second factor they hold or
obtain later (a stolen recovery code, a code read over a shoulder). Both remember the
account's session hash (Django's ``get_session_auth_hash``: an HMAC of the password hash,
what signs out sessions when the password changes) and compare it before any code is
looked at."""

from __future__ import annotations

from typing import Any

from django.utils.crypto import constant_time_compare


def password_stamp(user: Any) -> str:
    """What a pending second step remembers of the account's password."""
    return str(user.get_session_auth_hash())


def password_unchanged(user: Any, stamp: Any) -> bool:
    """Whether ``user``'s password is still the one ``stamp`` was taken from."""
    return isinstance(stamp, str) and bool(stamp) and constant_time_compare(stamp, password_stamp(user))
