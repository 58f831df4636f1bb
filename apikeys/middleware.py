"""Sends an API-key request's one Redis round trip ahead (``keycheck.round_trip_ahead``).

Placed right after the request context is opened: the key check's ``EVALSHA`` is written
before sessions, CSRF, URL resolution and DRF's dispatch run, and its reply read when
authentication asks for it, so the round trip costs the request little beyond its own
work. When authentication never comes (a 404, a refused header) or asks for something
else, the reply is read when the request ends and what it counted given back, exactly.
Nothing happens on the embedded default (the in-process limiter has no round trip to
overlap): there the middleware takes itself out of the chain when Django loads it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

from apikeys import keycheck
from apikeys.authentication import presented_key
from tater import limiter
from tater.api.errors import ApiError

API_PREFIX = "/api/v1/"  # where ApiKeyAuthentication (keycheck.check) authenticates keys


class SendKeyCheckAheadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not limiter.get_limiter().sends_ahead:
            raise MiddlewareNotUsed  # decided in the process: no round trip to overlap
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            raw = presented_key(request)  # type: ignore[arg-type]
        except ApiError:
            raw = None  # authentication refuses the headers itself
        if raw is None:
            return self.get_response(request)
        ip = getattr(request, "client_ip", None)  # as ApiKeyAuthentication reads it
        with keycheck.round_trip_ahead(raw, request.META.get("REMOTE_ADDR", "") if ip is None else ip):
            return self.get_response(request)
