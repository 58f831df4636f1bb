from __future__ import annotations

from django.apps import AppConfig


class SurfacesConfig(AppConfig):
    """The seed systems' own paths (SPEC §5a), served by the same core."""

    name = "surfaces"
    default_auto_field = "django.db.models.BigAutoField"
