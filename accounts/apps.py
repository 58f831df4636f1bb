from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts import receivers
        from accounts.admin_site import TaterAdminSite

        receivers.connect()
        # Every ModelAdmin registered on admin.site stays; only the access check changes.
        admin.site.__class__ = TaterAdminSite
