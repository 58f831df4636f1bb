from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tater.api.errors import json_error
from tater.docs_views import api_reference

urlpatterns = [
    path("api/v1/", include("tater.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="docs/swagger_ui.html"), name="api-docs"),
    path("api/", include("scans.api.alias_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("keys/", include("apikeys.urls")),
    path("activity/", include("audit.urls")),
    path("scans/", include("scans.urls")),
    path("invitations/", include("orgs.invitation_urls")),
    path("docs/api/", api_reference, name="api_reference"),
    path("", include("orgs.urls")),
]


def _api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error(request, 404, "NOT_FOUND", "Not found")


# Anything else under /api/ answers JSON, never an HTML page.
urlpatterns.append(re_path(r"^api/", _api_not_found))


# allauth's rate limits and the account forms answer with this page (429 + Retry-After).
handler429 = "accounts.views.too_many_requests"


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(
            request, 500, "INTERNAL_ERROR", "Internal server error", {"request_id": getattr(request, "request_id", None)}
        )
    return defaults.server_error(request)
