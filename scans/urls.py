from __future__ import annotations

from django.urls import path

from scans import views

urlpatterns = [
    path("", views.scan_list, name="scan_list"),
    path("<str:scan_id>/", views.scan_detail, name="scan_detail"),
]
