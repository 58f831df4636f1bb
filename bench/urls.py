"""The app's URLs plus the bench's open view (ahead of the app's JSON 404 catch-all).

Under /api/ like the endpoint it is compared with, so the app's /api/ middleware treats
both requests alike."""

from __future__ import annotations

from django.urls import path

from bench.views import FloorView, OpenView, RoundTripFloorView
from tater.urls import handler404, handler500
from tater.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("api/bench/open", OpenView.as_view(), name="bench-open"),
    path("api/bench/floor", FloorView.as_view(), name="bench-floor"),
    path("api/bench/floor-rt", RoundTripFloorView.as_view(), name="bench-floor-rt"),  # Redis modes
    *app_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
