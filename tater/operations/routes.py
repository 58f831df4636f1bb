"""The route of a request: its URL pattern (``/api/v1/keys/<str:key_id>/``), never the raw
path. Metrics label requests with it (bounded: one value per pattern, ids never multiply
the series) and log lines show it in place of the path (tokens in invitation and reset
links stay out of the logs)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

UNMATCHED = "<unmatched>"  # no URL pattern answered (404s, and probes of unknown paths)
STATIC = "<static>"  # files WhiteNoise serves before URL resolution
# Answered by OperationsMiddleware before URL resolution: their paths are their routes.
OPERATIONS_PATHS = {path: path for path in ("/healthz", "/readyz", "/metrics")}

# Pattern → label. Bounded by the URL conf: keys are patterns, never paths.
_labels: dict[str, str] = {}


def route_of(request: HttpRequest) -> str:
    match = request.resolver_match
    # ``no_route``: tater.urls' catch-all that answers 404 under /api/ (a miss, not a route).
    if match is None or getattr(match.func, "no_route", False):
        path = request.path_info
        operations = OPERATIONS_PATHS.get(path)
        if operations is not None:
            return operations
        return STATIC if path.startswith(settings.STATIC_URL or "/static/") else UNMATCHED
    pattern = match.route
    label = _labels.get(pattern)
    if label is None:
        label = _labels[pattern] = "/" + pattern
    return label
