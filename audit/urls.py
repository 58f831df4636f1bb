from __future__ import annotations

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.activity_log, name="activity_log"),
    path("export.csv", views.activity_log_export, name="activity_log_export"),
]
