"""Behaviour under infrastructure faults: a lost database or cache connection is a clear,
retryable 503 ``SERVICE_UNAVAILABLE`` (never a 500 with a traceback), and a Redis outage
does not take authentication down.

- ``tater.outages.is_outage(exc)``: a connection-level failure of PostgreSQL/SQLite or Redis,
  looked for along the exception chain. Used by the API exception handler
  (``tater.api.errors``) and by ``ServiceFaultMiddleware`` here for everything outside DRF
  (sessions, UI pages, admin).
- The default cache's fail-soft mode lives in ``tater.cache`` (reads miss and fills are
  dropped during an outage; deletes and counters stay strict).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse

from tater.api.errors import ServiceUnavailable, json_error
from tater.outages import RETRY_AFTER_SECONDS, is_outage

logger = logging.getLogger("tater.faults")


# --- 503 for faults outside DRF --------------------------------------------------------------


def outage_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = json_error(request, 503, ServiceUnavailable.code, ServiceUnavailable.message)
    else:
        response = HttpResponse(
            "<!doctype html><title>Temporarily unavailable</title><h1>Temporarily unavailable</h1>"
            "<p>Tater cannot reach one of its services. Please retry in a few seconds.</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _remember_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django sends this from inside the `except` block that caught the exception.
    exc = sys.exc_info()[1]
    if request is not None and is_outage(exc):
        request._tater_outage = exc  # type: ignore[attr-defined]


got_request_exception.connect(_remember_outage, dispatch_uid="tater.faults.remember_outage")


class ServiceFaultMiddleware:
    """Turns the 500 that Django produced for a database/cache outage (in a view or in
    another middleware, e.g. loading the session) into a 503 with ``Retry-After``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, "_tater_outage", None)
        if exc is not None and response.status_code == 500:
            logger.error("Service outage on %s %s: %s", request.method, request.path, exc)
            return outage_response(request)
        return response
