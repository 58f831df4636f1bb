"""Prometheus metrics (prometheus-client), recorded by ``OperationsMiddleware``.

- ``tater_http_requests_total{route, method, status_class}`` and
  ``tater_http_request_duration_seconds{route, method, status_class}`` (histogram): every
  request, by URL pattern (``tater.operations.routes``; never the raw path), method
  (``OTHER`` for non-standard ones) and ``2xx``…``5xx``.
- ``tater_key_auth_total{outcome}``: API-key authentication: ``ok`` (a key authenticated),
  or the catalog code of the refusal: ``UNAUTHORIZED`` (also: no credentials at all),
  ``KEY_REVOKED``, ``KEY_EXPIRED``, ``KEY_INACTIVE``, ``IP_NOT_ALLOWED``, ``LOCKED_OUT``;
  not the refusals of API views that take no credentials (sign-in, secret scanning).
- ``tater_rate_limit_refusals_total{code, route}``: 429s: ``RATE_LIMITED``, ``LOCKED_OUT``
  (failed-authentication lockout), ``USAGE_EXHAUSTED`` (a usage-limited key used up),
  ``UNKNOWN`` (a 429 that names no code). The sign-in pages' 429s (HTML, or the passkey
  ceremonies' own JSON) name theirs under ``REFUSAL_CODE_ATTR``: a refusal, never a
  key-authentication outcome.

Outcomes are read from the response, not from the authentication and rate-limit code:
the catalog code of a 401/403/429 (DRF's ``Response.data``, or a small JSON error body;
on a seed system's path, the code its envelope was made from) and whether the request
context names a key. A successful request costs one dict lookup
(the label children, cached per label set) and the library's ``inc``/``observe``.

Multiprocess (gunicorn): with ``PROMETHEUS_MULTIPROC_DIR`` set in the environment before
start, every worker writes its values to files there and a scrape of any worker adds them
up (``tater.operations.gunicorn_conf`` sets it up).
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.http import HttpResponseBase
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    # Each worker's value files are created with its first metric: the directory must exist.
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

# No ``*_created`` series beside every counter and histogram: half the output, no use here.
disable_created_metrics()

LABELS = ("route", "method", "status_class")
# A warm key request takes about a millisecond; the top buckets catch slow pages and exports.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("tater_http_requests", "HTTP requests answered, by URL pattern, method and status class.", LABELS)
DURATION = Histogram(
    "tater_http_request_duration_seconds",
    "Time from the request entering Tater's middleware to the response leaving it.",
    LABELS,
    buckets=BUCKETS,
)
KEY_AUTH = Counter(
    "tater_key_auth",
    "API-key authentication outcomes: ok, or the catalog error code of the refusal.",
    ("outcome",),
)
REFUSALS = Counter(
    "tater_rate_limit_refusals",
    "Requests refused with 429, by catalog code (RATE_LIMITED, LOCKED_OUT, USAGE_EXHAUSTED, UNKNOWN) and URL pattern.",
    ("code", "route"),
)

KEY_AUTH_OUTCOMES = ("ok", "UNAUTHORIZED", "KEY_REVOKED", "KEY_EXPIRED", "KEY_INACTIVE", "IP_NOT_ALLOWED", "LOCKED_OUT")
_AUTH_FAILURES = frozenset(KEY_AUTH_OUTCOMES[1:])
_REFUSAL_CODES = frozenset({"RATE_LIMITED", "LOCKED_OUT", "USAGE_EXHAUSTED"})
# A seed system's path (SPEC §5a) answers in its own envelope; the view that rewrote the
# catalog error leaves the catalog code on the response under this attribute.
CATALOG_CODE_ATTR = "tater_catalog_code"
# A 429 that is no catalog error (the sign-in pages' lockout and rate limit) leaves the
# catalog code of the refusal under this attribute: counted in REFUSALS only.
REFUSAL_CODE_ATTR = "tater_refusal_code"
# Every outcome exported from the start (at 0), so rates and alerts see the series.
_key_auth = {outcome: KEY_AUTH.labels(outcome) for outcome in KEY_AUTH_OUTCOMES}
_key_ok = _key_auth["ok"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASSES = ("other", "1xx", "2xx", "3xx", "4xx", "5xx")
_CODED_STATUSES = frozenset({401, 403, 429})
_MAX_ERROR_BODY = 4096  # catalog errors are a few hundred bytes; anything larger is not one

# (route, method, status class) → (counter child, histogram child). Bounded: routes are
# URL patterns, methods and classes small fixed sets.
_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def record(
    route: str, method: str, status: int, seconds: float, response: HttpResponseBase, key_authenticated: bool
) -> None:
    """Count and time one answered request; ``key_authenticated``: an API key authenticated it."""
    labels = (
        route,
        method if method in _METHODS else "OTHER",
        _STATUS_CLASSES[status // 100] if 100 <= status < 600 else "other",
    )
    children = _children.get(labels)
    if children is None:
        children = _children[labels] = (REQUESTS.labels(*labels), DURATION.labels(*labels))
    children[0].inc()
    children[1].observe(seconds)
    if status in _CODED_STATUSES:
        _record_refusal(route, status, response, key_authenticated)
    elif key_authenticated:
        _key_ok.inc()


def _record_refusal(route: str, status: int, response: HttpResponseBase, key_authenticated: bool) -> None:
    code = catalog_code(response)
    if code in _AUTH_FAILURES and _authenticates(response):
        _key_auth[code].inc()
    elif key_authenticated:
        _key_ok.inc()  # authenticated, then refused for another reason (scope, rate limit)
    if status == 429:
        code = code or getattr(response, REFUSAL_CODE_ATTR, None)
        REFUSALS.labels(code if code in _REFUSAL_CODES else "UNKNOWN", route).inc()


def _authenticates(response: HttpResponseBase) -> bool:
    """False for an API view that takes no credentials (``authentication_classes = []``: the
    sign-in and credential-exchange endpoints, GitHub's secret-scanning alerts): its refusals
    (a password lockout, a bad signature) are no key-authentication outcome."""
    renderer_context = getattr(response, "renderer_context", None)
    view = renderer_context.get("view") if isinstance(renderer_context, dict) else None
    return view is None or bool(getattr(view, "authentication_classes", True))


def catalog_code(response: HttpResponseBase) -> str | None:
    """The ``error`` code of a catalog error response (SPEC §3), or None. A seed system's
    answer carries the catalog code it was made from (``CATALOG_CODE_ATTR``)."""
    presented = getattr(response, CATALOG_CODE_ATTR, None)
    if isinstance(presented, str):
        return presented
    data = getattr(response, "data", None)  # DRF's Response keeps the body it rendered
    if data is None:
        if response.streaming or not response.get("Content-Type", "").startswith("application/json"):
            return None
        content = response.content  # type: ignore[attr-defined]
        if len(content) > _MAX_ERROR_BODY:
            return None
        try:
            data = json.loads(content)
        except ValueError:
            return None
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) else None


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus' text format, and its content type. In
    multiprocess mode: summed over every worker's files (live and exited)."""
    if MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=MULTIPROC_DIR)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
