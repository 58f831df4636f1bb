from __future__ import annotations

from django.urls import path

from leaks.api.views import GitHubSecretScanningView

urlpatterns = [
    path("secret-scanning/github/", GitHubSecretScanningView.as_view(), name="api-secret-scanning-github"),
]
