"""Everything under /api/v1/."""

from __future__ import annotations

from django.urls import include, path

from apikeys.api.views import ValidateView
from tater.api.health import HealthView

urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    # The hottest key-authenticated path resolves as directly as the health check.
    path("auth/validate", ValidateView.as_view(), name="api-auth-validate"),
    # apikeys first: the next hottest paths resolve without descending into (and failing
    # through) the other empty-prefix includes.
    path("", include("apikeys.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("orgs.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("scans.api.urls")),
    path("", include("leaks.api.urls")),
    path("", include("scim.api.urls")),
]
