from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The signed-in home (dashboard) and the demo data: they bring keys, scans, orgs and
    the audit log together, so they sit above every app they read (STYLE.md "Layers")."""

    name = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"
