"""The client address, resistant to forged forwarding headers.

``X-Forwarded-For`` is read only through ``TATER_TRUSTED_PROXY_COUNT`` trusted proxies,
counting from the right: each trusted proxy appends the address it saw, so the entry
just left of the proxies is the client. Anything further left was written by the client
and is ignored, as is ``X-Real-IP``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104  # nosec B104 - a placeholder address, not a bind
    hops = settings.TATER_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    return _valid(forwarded[-hops]) or remote
