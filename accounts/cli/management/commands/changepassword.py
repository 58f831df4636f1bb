"""``manage.py changepassword``: Django's prompts, Tater's change.

Django's command saves the whole account row it read before prompting, unaudited. Here the
password is written alone (an identity provider deprovisioning the person while the operator
types stays done: ``accounts.adapter.AccountAdapter.set_password``) and the change is an
operator's password set, as in the admin: every session and pending sign-in of the account
ends, audited ``user.password_changed`` (``via: operator``, channel ``system``), the account's
address mailed. The transaction starts after the prompts (SQLite's immediate transactions
would hold every other writer while someone types).
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from accounts import services
from tater.emails import normalize_email

TRIES = 3  # as Django's


class Command(changepassword.Command):
    help = (
        "Set an account's password (by its email address): every session of the account ends, "
        "audited (user.password_changed, via operator, channel system), the account mailed."
    )

    def handle(self, *args: Any, **options: Any) -> str:
        address = options["username"] or getpass.getuser()
        users = get_user_model()._default_manager.using(options["database"])
        user = users.filter(email_canonical=normalize_email(address)).first()
        if user is None:
            raise CommandError(f"user '{address}' does not exist")
        self.stdout.write(f"Changing password for user '{user}'")
        password = self._new_password(user)
        with transaction.atomic(using=options["database"]):
            user.set_password(password)
            user.save(update_fields=["password"])
            services.user_password_set_by_operator(user=user)
        return f"Password changed successfully for user '{user}'"

    def _new_password(self, user: Any) -> str:
        for _ in range(TRIES):
            first, again = _typed("Password: "), _typed("Password (again): ")
            if first != again:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(first, user)
            except ValidationError as err:
                self.stderr.write("\n".join(err.messages))
                continue
            return first
        raise CommandError(f"Aborting password change for user '{user}' after {TRIES} attempts")


def _typed(prompt: str) -> str:
    typed = getpass.getpass(prompt=prompt)
    if not typed:
        raise CommandError("aborted")
    return typed
