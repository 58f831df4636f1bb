from __future__ import annotations

from django.urls import path

from orgs import activity_views

urlpatterns = [
    path("", activity_views.activity_log, name="activity_log"),
    path("export.csv", activity_views.activity_log_export, name="activity_log_export"),
]
