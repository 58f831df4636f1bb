"""``/scim/v2/`` (SCIM 2.0, scim.protocol) and the tenant owner's SCIM settings pages."""

from __future__ import annotations

from django.urls import include, path, re_path

from scim import views
from scim.protocol.views import NotFoundView

urlpatterns = [
    path("scim/v2/", include("scim.protocol.urls")),
    # /scim/v2 itself and anything else under /scim/ (a tenant URL mistyped in the identity
    # provider): SCIM's 404, never Django's APPEND_SLASH 301 (followed with a GET, losing a
    # POST's body; a 500 with DEBUG) nor its HTML page.
    re_path(r"^scim(?:/|$)", NotFoundView.as_view(), name="scim-elsewhere"),
    path("settings/tenant/scim/", views.scim_settings, name="scim_settings"),
    path("settings/tenant/scim/tokens/<str:token_id>/revoke/", views.scim_token_revoke, name="scim_token_revoke"),
    path("settings/tenant/scim/groups/<str:group_id>/map/", views.scim_group_map, name="scim_group_map"),
]
