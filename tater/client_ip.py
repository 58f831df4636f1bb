"""The client address, resistant to forged forwarding headers.

``X-Forwarded-For`` is read only through ``TATER_TRUSTED_PROXY_COUNT`` trusted proxies,
counting from the right: each trusted proxy appends the address it saw, so the entry
just left of the proxies is the client. Anything further left was written by the client
and is ignored, as is ``X-Real-IP``.

A proxy may write the address with its port (``203.0.113.9:51234``, ``[2001:db8::9]:443``:
Azure Application Gateway, IIS) or as ``unknown`` (Squid). The address is what counts; an
entry that holds none is :data:`UNKNOWN`, never the proxy's own address: that address is
usually on an allowlisted private network (or loopback, which may read ``/metrics``), and
every client behind the proxy would share one lockout.
"""

from __future__ import annotations

import ipaddress
import re

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "0.0.0.0"  # noqa: S104  # nosec B104 - a placeholder address, not a bind
_PORT = re.compile(r":[0-9]{1,5}")


def _address(entry: str) -> str | None:
    """The address of a forwarded entry: bare, ``a.b.c.d:port``, ``[v6]`` or ``[v6]:port``."""
    value = entry.strip()
    if value.startswith("["):
        host, closed, port = value[1:].partition("]")
        if not closed or (port and not _PORT.fullmatch(port)):
            return None
        value = host
    elif value.count(":") == 1:  # IPv4 with a port (an IPv6 address has at least two colons)
        host, _, port = value.partition(":")
        if not _PORT.fullmatch(f":{port}"):
            return None
        value = host
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or UNKNOWN
    hops = settings.TATER_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    return _address(forwarded[-hops]) or UNKNOWN
