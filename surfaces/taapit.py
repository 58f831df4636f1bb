"""taap.it's API (SPEC §5a; docs/migrating-from-taapit.md).

- ``GET /v1/workspaces``: the organizations the key reaches (its own org; every org of the
  tenant for an unbound key), as taap.it answers it: a JSON array of workspaces.

The key comes as ``Authorization: Bearer <key>`` (``X-API-Key`` works too); a deployment
that wants taap.it's ``taapit_`` keys sets ``TATER_KEY_PREFIX_STANDARD=taapit_``. Errors are
``{"detail": "..."}`` as taap.it (a Django REST framework API) answers them.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from orgs.api import views as org_views
from orgs.api.serializers import OrganizationOutput
from surfaces.authentication import BearerKeyAuthentication
from surfaces.envelope import CatalogError, Envelope, SurfaceView

# (catalog code, catalog message) → taap.it's wording; others keep the catalog's message.
DETAILS = {
    ("UNAUTHORIZED", "Invalid token"): "Invalid API key",
    ("UNAUTHORIZED", "Invalid authorization header format"): "Invalid API key",
    ("UNAUTHORIZED", "Missing API key"): "Authentication credentials were not provided.",
}


class TaapitEnvelope(Envelope):
    www_authenticate = 'Bearer realm="api"'

    def error(self, error: CatalogError) -> Any:
        return {"detail": DETAILS.get((error.code, error.message), error.message)}


class WorkspaceListView(SurfaceView, org_views.OrganizationListView):
    envelope = TaapitEnvelope()
    authentication_classes = [BearerKeyAuthentication]
    http_method_names = ["get", "head", "options"]
    # taap.it's list is one array, not paged (``GET organizations/`` is): ?limit= is a 400.
    query_fields = {"GET": frozenset()}

    def get(self, request: Request) -> Response:
        rows = list(self.reachable(request))
        return Response(OrganizationOutput(rows, many=True).data)


urlpatterns = [
    path("v1/workspaces", WorkspaceListView.as_view(), name="taapit-workspaces"),
]
