from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts import checks, receivers, sso  # noqa: F401  (checks: registers system checks)
        from accounts.admin_site import TaterAdminSite
        from orgs import access

        receivers.connect()
        # "Require SSO" is met only by a session its tenant's own IdP signed in (accounts.sso).
        access.register_session_bar(sso.session_barred_tenants)
        # Every ModelAdmin registered on admin.site stays; only the access check changes.
        admin.site.__class__ = TaterAdminSite
