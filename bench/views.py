"""The baseline of the in-process ratio: an open DRF view (no authentication, no
permissions, no throttles) answering a small JSON body, rendered on every request; and the
floors the ratios are read against."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys import keycheck
from apikeys.api.views import ValidateView


class OpenView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []

    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "open": True})


# --- Floors: the validate view as it would cost with a key check that costs nothing ----
class FreeKeyCheck(BaseAuthentication):
    """A key check that costs nothing: each presented key is verified once (the public
    ``keycheck.verify``), then only looked up in a dict: never re-checked, never counted,
    no usage kept. Not a way to run anything: the floor's yardstick."""

    known: ClassVar[dict[str, Any]] = {}

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = request.META.get("HTTP_X_API_KEY")
        if raw is None:
            return None
        principal = self.known.get(raw)
        if principal is None:
            principal = self.known[raw] = keycheck.verify(raw, request.META.get("REMOTE_ADDR", ""))
        return AnonymousUser(), principal


class FloorView(ValidateView):
    """``/api/v1/auth/validate`` with :class:`FreeKeyCheck`: the same permission, throttle,
    view and rendering, no key check. Its ratio to the open view is the floor of the
    SQLite row."""

    authentication_classes = [FreeKeyCheck]


class RoundTripFloorView(FloorView):
    """:class:`FloorView` plus one Redis round trip (a ``PING`` through the app's redis-py
    client): the floor of any check that asks Redis once per request (the Redis rows)."""

    def get(self, request: Request) -> Response:
        from tater.redis_client import get_client

        get_client().ping()
        return super().get(request)
