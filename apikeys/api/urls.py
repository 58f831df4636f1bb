from __future__ import annotations

from django.urls import path

from apikeys.api import usage_views, views

urlpatterns = [
    # First: the hottest key-authenticated path (tater.api.urls includes this module first).
    path("auth/validate", views.ValidateView.as_view(), name="api-auth-validate"),
    path("keys/", views.KeyListView.as_view(), name="api-keys"),
    path("keys/<str:key_id>/", views.KeyDetailView.as_view(), name="api-key-detail"),
    path("keys/<str:key_id>/revoke/", views.KeyRevokeView.as_view(), name="api-key-revoke"),
    path("keys/<str:key_id>/rotate/", views.KeyRotateView.as_view(), name="api-key-rotate"),
    path("keys/<str:key_id>/deactivate/", views.KeyDeactivateView.as_view(), name="api-key-deactivate"),
    path("keys/<str:key_id>/activate/", views.KeyActivateView.as_view(), name="api-key-activate"),
    path("keys/<str:key_id>/usage/", usage_views.KeyUsageView.as_view(), name="api-key-usage"),
]
