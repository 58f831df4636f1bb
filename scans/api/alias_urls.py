"""``/api/scans/upload``: the path TATER's published snippets post to (SPEC §5), an alias
of ``/api/v1/scans/upload`` served by the same view."""

from __future__ import annotations

from django.urls import path

from scans.api import views

urlpatterns = [
    path("scans/upload", views.ScanUploadAliasView.as_view(), name="api-scans-upload-alias"),
]
