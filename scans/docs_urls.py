"""/docs/api/: the API reference page (``scans.docs_views``), mounted under ``docs/`` by
the root URLconf (an include by name, so the core imports no app)."""

from __future__ import annotations

from django.urls import path

from scans.docs_views import api_reference

urlpatterns = [
    path("api/", api_reference, name="api_reference"),
]
