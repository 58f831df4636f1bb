"""``/healthz``, ``/readyz`` and ``/metrics``, answered by ``OperationsMiddleware``.

They are served ahead of the rest of the middleware: probes and scrapers address a node
by its IP over plain HTTP, which ``ALLOWED_HOSTS`` and the HTTPS redirect would refuse,
and a liveness probe must not depend on sessions, the database or Redis.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from functools import lru_cache, wraps

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse

from tater import lockout, outages
from tater.api.errors import ApiError, ServiceUnavailable, api_error_response, json_error
from tater.client_ip import canonical_network, client_ip
from tater.operations import metrics, probes
from tater.operations.app_settings import app_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Headers a reverse proxy adds. Without TATER_TRUSTED_PROXY_COUNT the address we see may be
# the proxy's own (often loopback), not the client's: such a request is not admitted by address.
_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def _seen_through_a_proxy(request: HttpRequest) -> bool:
    """Forwarded, but the address ``tater.client_ip`` decides on is a proxy's own: no proxy is
    trusted, or ``X-Forwarded-For`` has fewer entries than trusted proxies (the request went
    around the outer ones: someone reached an inner proxy directly, whose address is then
    ``REMOTE_ADDR``, e.g. loopback)."""
    if not any(header in request.META for header in _FORWARDING_HEADERS):
        return False  # straight to the app: REMOTE_ADDR is the client
    entries = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    hops = settings.TATER_TRUSTED_PROXY_COUNT
    return hops <= 0 or len(entries) < hops


def _read_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            # The catalog's 405, as the API answers it: these endpoints speak JSON.
            refused = json_error(request, 405, "METHOD_NOT_ALLOWED", f'Method "{request.method}" not allowed')
            refused["Allow"] = "GET, HEAD"
            return _no_store(refused)
        return view(request)

    return wrapped


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@_read_only
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches neither the database nor Redis."""
    return _no_store(JsonResponse({"status": "ok"}))


@_read_only
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 with each dependency's status, or 503 ``SERVICE_UNAVAILABLE`` (the
    catalog format) naming the ones that are down."""
    results = probes.readiness()
    if all(state == probes.OK for state in results.values()):
        return _no_store(JsonResponse({"status": "ok", "checks": results}))
    down = ", ".join(name for name, state in results.items() if state != probes.OK)
    response = json_error(request, 503, ServiceUnavailable.code, f"Not ready: {down} unavailable", results)
    response["Retry-After"] = str(outages.RETRY_AFTER_SECONDS)
    return _no_store(response)


@_read_only
def metrics_view(request: HttpRequest) -> HttpResponse:
    body, content_type = metrics.exposition()
    return _no_store(HttpResponse(body, content_type=content_type))


@lru_cache(maxsize=8)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(canonical_network(cidr) for cidr in cidrs)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TATER_METRICS_ALLOWED_IPS: {exc}") from exc


def _bearer_credential(request: HttpRequest) -> str:
    """The credential of ``Authorization: Bearer …`` (empty: no bearer credential)."""
    scheme, _, credential = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def metrics_allowed(request: HttpRequest) -> bool:
    """A caller may read ``/metrics`` with the bearer token ``TATER_METRICS_TOKEN`` or from an
    address in ``TATER_METRICS_ALLOWED_IPS`` (client address as ``tater.client_ip`` sees it)."""
    token = app_settings.METRICS_TOKEN
    # Constant time: the comparison must not tell how much of a guess was right.
    if token and hmac.compare_digest(_bearer_credential(request).encode(), token.encode()):
        return True
    allowed = networks(app_settings.METRICS_ALLOWED_IPS)
    if not allowed:
        return False
    if _seen_through_a_proxy(request):
        return False
    ip = getattr(request, "client_ip", None) or client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


def token_guess_refusal(request: HttpRequest) -> HttpResponse | None:
    """A bearer credential that did not admit its caller to ``/metrics`` is a failed
    authentication (SPEC §6): counted towards the client address's lockout, whether a token
    is configured or not (the lock must not tell). The 429 ``LOCKED_OUT`` of a locked-out
    address (or the 503 of a store that cannot count: no uncounted guessing), else ``None``
    (the caller then gets the 404 of an unknown path)."""
    if not _bearer_credential(request):
        return None
    ip = getattr(request, "client_ip", None) or client_ip(request)
    try:
        lockout.register_failure(ip=ip, kind="metrics_token")
    except ApiError as exc:
        return _no_store(api_error_response(request, exc))
    return None
