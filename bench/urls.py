"""The app's URLs plus the peer endpoints (ahead of the app's JSON 404 catch-all)."""

from __future__ import annotations

from django.urls import path

from bench.peers import ApiKeyLibView, DrfTokenView
from tater.urls import handler404, handler500
from tater.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("api/bench/drf-token", DrfTokenView.as_view(), name="bench-drf-token"),
    path("api/bench/api-key-lib", ApiKeyLibView.as_view(), name="bench-api-key-lib"),
    *app_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
