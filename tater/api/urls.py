"""Everything under /api/v1/."""

from __future__ import annotations

from django.urls import include, path

from tater.api.health import HealthView

urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    # apikeys first: its first route is auth/validate (the hottest key-authenticated path),
    # then the next hottest, all resolved without descending into (and failing through) the
    # other empty-prefix includes.
    path("", include("apikeys.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("orgs.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("scans.api.urls")),
    path("", include("leaks.api.urls")),
    path("", include("scim.api.urls")),
]
