from __future__ import annotations

from django.urls import path

from scim.api import views

urlpatterns = [
    path("scim-tokens/", views.ScimTokenListView.as_view(), name="api-scim-tokens"),
    path("scim-tokens/<str:token_id>/revoke/", views.ScimTokenRevokeView.as_view(), name="api-scim-token-revoke"),
]
