"""Everything under /api/v1/."""

from __future__ import annotations

from django.urls import include, path

from tater.api.health import HealthView

urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    path("", include("accounts.api.urls")),
    path("", include("apikeys.api.urls")),
    path("", include("orgs.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("scans.api.urls")),
]
