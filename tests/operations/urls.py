"""Tater's URL conf plus views that fail or log carelessly, with secrets in their paths:
the logs must hold none of them (tests/operations/test_secret_free_logs.py)."""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tater.urls import handler400, handler403, handler404, handler429, handler500  # noqa: F401 - Django reads them here
from tater.urls import urlpatterns as tater_urlpatterns


class ApiBoom(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get(self, request: Request, token: str) -> Response:
        raise RuntimeError("the API view failed")


def page_boom(request: HttpRequest, token: str) -> HttpResponse:
    raise RuntimeError("the page failed")


def outage(request: HttpRequest, token: str) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


def careless(request: HttpRequest, token: str) -> HttpResponse:
    """Logs what a careless view might: its full path and the Authorization header."""
    logging.getLogger("tater.test").warning(
        "handling %s for %s", request.get_full_path(), request.META.get("HTTP_AUTHORIZATION", "")
    )
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/v1/ops-test/boom/<str:token>/", ApiBoom.as_view()),
    path("ops-test/boom/<str:token>/", page_boom),
    path("ops-test/outage/<str:token>/", outage),
    path("ops-test/careless/<str:token>/", careless),
    *tater_urlpatterns,
]
