"""The baseline of the in-process ratio: an open DRF view (no authentication, no
permissions, no throttles) answering a small JSON body, rendered on every request."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class OpenView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []

    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "open": True})


class FloorView(OpenView):
    """The open view plus one Redis round trip (a ``PING`` through the app's redis-py
    client): what any check that asks Redis once per request costs at least. Its ratio to
    the open view is the floor of the PostgreSQL + Redis rows."""

    def get(self, request: Request) -> Response:
        from tater.redis_client import get_client

        get_client().ping()
        return Response({"status": "ok", "open": True})
