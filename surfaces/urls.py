"""The seed systems' own paths (SPEC §5a), one module each (included at the root)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("surfaces.tatry")),
    path("", include("surfaces.taapit")),
    path("", include("surfaces.tigertrust")),
    path("", include("surfaces.taffy")),
]
