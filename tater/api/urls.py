"""Everything under /api/v1/."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("apikeys.api.urls")),
    path("", include("orgs.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("scans.api.urls")),
]
