from __future__ import annotations

from django.urls import path

from scans.api import views

urlpatterns = [
    path("scans/upload", views.ScanUploadView.as_view(), name="api-scans-upload"),
    path("scans/", views.ScanListView.as_view(), name="api-scans"),
    path("scans/<str:scan_id>/", views.ScanDetailView.as_view(), name="api-scan-detail"),
]
