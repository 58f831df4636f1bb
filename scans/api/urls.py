from __future__ import annotations

from django.urls import path, register_converter

from scans.api import views


class ScanIdConverter:
    """Scan ids only (``scan-<uuid>``), so ``scans/upload/`` is never taken for a scan and
    falls through to the upload (both slash forms are served)."""

    regex = r"scan-[0-9a-f-]{36}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ScanIdConverter, "scan_id")

urlpatterns = [
    path("scans/upload", views.ScanUploadView.as_view(), name="api-scans-upload"),
    path("scans/", views.ScanListView.as_view(), name="api-scans"),
    path("scans/<scan_id:scan_id>/", views.ScanDetailView.as_view(), name="api-scan-detail"),
]
