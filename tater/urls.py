from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tater.api import urls as api_v1
from tater.api.errors import answers_json, api_error_response, django_error, status_error
from tater.api.views import CatalogErrorsView
from tater.middleware import in_route_format


# The schema (YAML, or JSON of its own media type) and the docs page (HTML): their refusals
# (a revoked key, a wrong method) in the catalog's JSON, as everywhere under /api/ (SPEC §3).
class SchemaView(CatalogErrorsView, SpectacularAPIView):
    pass


class DocsView(CatalogErrorsView, SpectacularSwaggerSplitView):
    pass


urlpatterns = [
    *api_v1.under("api/v1/"),  # first, and at the root: the hottest paths, matched in one level
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        DocsView.as_view(
            url_name="api-schema",
            template_name="docs/swagger_ui.html",
            # A page: DRF's OPTIONS would render its metadata through the page's template (a 500).
            http_method_names=["get", "head"],
        ),
        name="api-docs",
    ),
    path("api/", include("scans.api.alias_urls")),
    path("", include("surfaces.urls")),  # the seed systems' own paths (SPEC §5a)
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("keys/", include("apikeys.urls")),
    path("activity/", include("orgs.activity_urls")),
    path("scans/", include("scans.urls")),
    path("invitations/", include("orgs.invitation_urls")),
    path("docs/", include("scans.docs_urls")),  # /docs/api/: the API reference page
    path("settings/tenant/outbox/", include("outbox.urls")),
    path("", include("scim.urls")),  # /scim/v2/ (SCIM 2.0) and Tenant settings → SCIM provisioning
    path("", include("portal.urls")),  # / (the dashboard)
    path("", include("orgs.urls")),
]


# Exempt: a 404 whatever the request, and a CSRF refusal here would keep
# TrailingSlashMiddleware from serving POST /api/v1/keys as /api/v1/keys/.
@csrf_exempt
def _api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return status_error(request, 404)


# Marks "no route" for TrailingSlashMiddleware (which then tries the path's other form).
_api_not_found.no_route = True  # type: ignore[attr-defined]

# Anything else under /api/ answers JSON, never an HTML page (the seed systems' prefixes
# get theirs from handler404: no catch-all there, so no CSRF-exempt route outside /api/).
# /api itself too: were only /api/ a route, APPEND_SLASH would redirect /api there (an HTML
# 301 that a client follows without its POST body; a RuntimeError, 500, with DEBUG).
urlpatterns.append(re_path(r"^api(?:/|$)", _api_not_found))


# allauth's rate limits and the account forms answer with this page (429 + Retry-After).
handler429 = "accounts.views.too_many_requests"


# Django's error views (used with DEBUG off; tater.middleware.JsonErrorsMiddleware covers
# DEBUG's pages): a catalog error under the JSON paths (on a seed system's path in that
# system's shape: in_route_format), the usual pages elsewhere.


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if answers_json(request.path_info):
        error = django_error(exception)
        return in_route_format(request, api_error_response(request, error) if error else status_error(request, 400))
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if answers_json(request.path_info):
        return in_route_format(request, status_error(request, 403))
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if answers_json(request.path_info):
        return in_route_format(request, status_error(request, 404))
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if answers_json(request.path_info):
        return in_route_format(request, status_error(request, 500))
    return defaults.server_error(request)
