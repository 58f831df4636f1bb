"""``/scim/v2/`` (SCIM 2.0, scim.protocol) and the tenant owner's SCIM settings pages."""

from __future__ import annotations

from django.urls import include, path

from scim import views

urlpatterns = [
    path("scim/v2/", include("scim.protocol.urls")),
    path("settings/tenant/scim/", views.scim_settings, name="scim_settings"),
    path("settings/tenant/scim/tokens/<str:token_id>/revoke/", views.scim_token_revoke, name="scim_token_revoke"),
    path("settings/tenant/scim/groups/<str:group_id>/map/", views.scim_group_map, name="scim_group_map"),
]
