"""HTTP load rounds only (bench.settings_peers): bench.urls plus the two peer endpoints."""

from __future__ import annotations

from django.urls import path

from bench.peers import ApiKeyLibView, DrfTokenView
from bench.urls import handler404, handler500
from bench.urls import urlpatterns as bench_urlpatterns

urlpatterns = [
    path("api/bench/drf-token", DrfTokenView.as_view(), name="bench-drf-token"),
    path("api/bench/api-key-lib", ApiKeyLibView.as_view(), name="bench-api-key-lib"),
    *bench_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
