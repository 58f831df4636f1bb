from __future__ import annotations

from django.apps import AppConfig


class AccountsCliConfig(AppConfig):
    """Django's own account commands, audited (SPEC §7: every write through any channel).
    Listed before ``django.contrib.auth`` in INSTALLED_APPS, so ``manage.py changepassword``
    is this app's; ``createsuperuser`` stays Django's (``accounts.models.UserManager`` audits
    the account it creates)."""

    name = "accounts.cli"
    label = "accounts_cli"
