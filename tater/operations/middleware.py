from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter

from django.http import HttpRequest, HttpResponse

from tater import context
from tater.context import RequestContext
from tater.operations import metrics, views
from tater.operations.app_settings import app_settings
from tater.operations.logs import ACCESS_LOGGER, current_request
from tater.operations.routes import route_of

access_logger = logging.getLogger(ACCESS_LOGGER)

View = Callable[[HttpRequest], HttpResponse]


class OperationsMiddleware:
    """Answers ``/healthz``, ``/readyz`` and ``/metrics`` itself, and counts, times and
    access-logs every request (the three included).

    Placed right after ``RequestContextMiddleware``: the request id and client address are
    known, and everything else (host checks, the HTTPS redirect, sessions, JSON errors, the
    503 of an outage) lies inside, so the status and duration are the ones the client gets.
    ``/metrics`` refused (``views.metrics_allowed``) goes on down the stack and gets what
    any unknown path gets: a 404, nothing that tells a stranger it exists; a wrong bearer
    token counts towards the address's lockout (429 ``LOCKED_OUT`` once locked).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.endpoints: dict[str, View] = {"/healthz": views.healthz, "/readyz": views.readyz, "/metrics": self.metrics}
        views.networks(app_settings.METRICS_ALLOWED_IPS)  # a bad CIDR fails at start-up, not on a scrape

    def metrics(self, request: HttpRequest) -> HttpResponse:
        if views.metrics_allowed(request):
            return views.metrics_view(request)
        return views.token_guess_refusal(request) or self.get_response(request)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = perf_counter()
        token = current_request.set(request)
        try:
            endpoint = self.endpoints.get(request.path_info)
            response = self.get_response(request) if endpoint is None else endpoint(request)
            seconds = perf_counter() - start
            route = route_of(request)
            ctx = context.current()
            metrics.record(
                route, request.method or "", response.status_code, seconds, response, ctx.api_key_id is not None
            )
            if access_logger.isEnabledFor(logging.INFO):
                log_access(request, route, response.status_code, seconds, ctx)
        finally:
            current_request.reset(token)
        return response


def log_access(request: HttpRequest, route: str, status: int, seconds: float, ctx: RequestContext) -> None:
    """One line per request: the route, never the raw path (links carry tokens); the key's
    public id, never its secret."""
    duration_ms = round(seconds * 1000, 1)
    access_logger.info(
        "%s %s %s %.1fms",
        request.method,
        route,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "client_ip": ctx.ip,
            "key_id": ctx.api_key_public_id,
            "user_id": ctx.user_id,
        },
    )
