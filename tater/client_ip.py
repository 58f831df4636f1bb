"""The client address, resistant to forged forwarding headers.

``X-Forwarded-For`` is read only through ``TATER_TRUSTED_PROXY_COUNT`` trusted proxies,
counting from the right: each trusted proxy appends the address it saw, so the entry
just left of the proxies is the client. Anything further left was written by the client
and is ignored, as is ``X-Real-IP``. A chain shorter than the trusted proxies went around
the outer ones: each entry was appended by a trusted proxy, and the leftmost is the client.

A proxy may write the address with its port (``203.0.113.9:51234``, ``[2001:db8::9]:443``:
Azure Application Gateway, IIS) or as ``unknown`` (Squid). The address is what counts; an
entry that holds none is :data:`UNKNOWN`, never the proxy's own address: that address is
usually on an allowlisted private network (or loopback, which may read ``/metrics``).
Such a client is *counted* (lockout, address-keyed limits) with the others of the nearest
trusted hop (:func:`resolve`'s second value: the next parseable entry to the right, or
``REMOTE_ADDR``), so one guesser does not lock out every unidentified client everywhere.
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
    return canonical(value)


def canonical(value: str) -> str | None:
    """One spelling per address (None: not an address): IPv6 compressed and lower case
    (``2001:0DB8::0001`` is ``2001:db8::1``), and an IPv4 client that a dual-stack server
    (one listening on ``[::]``) reports as ``::ffff:198.51.100.7`` is ``198.51.100.7``, as the
    key allowlist reads it; so a key's last addresses, its ``last_used_ip``, the audit log
    and the lockout see one client once."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def canonical_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network ``cidr`` names (host bits dropped; ValueError: none), an IPv4-mapped one
    (``::ffff:10.0.0.0/104``, how a dual-stack server shows IPv4 clients) as the IPv4 network
    it stands for: clients are compared as :func:`canonical` spells them, so a mapped network
    would match no client at all."""
    network = ipaddress.ip_network(cidr, strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def resolve(request: HttpRequest) -> tuple[str, str | None]:
    """The client address, and (only when that is :data:`UNKNOWN` because its entry holds no
    address) the nearest trusted hop that forwarded it."""
    remote = request.META.get("REMOTE_ADDR", "") or UNKNOWN
    if ":" in remote:  # an IPv4 peer's address is written one way already; IPv6 is not
        remote = canonical(remote) or remote
    hops = settings.TATER_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote, None
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote, None  # no proxy on the way: the peer is the client
    # Fewer entries than trusted proxies: the outer ones were bypassed, and every entry was
    # written by a trusted one; the leftmost is the address the outermost proxy reached saw.
    address = _address(forwarded[-min(hops, len(forwarded))])
    if address is not None:
        return address, None
    nearer = (_address(entry) for entry in forwarded[max(len(forwarded) - hops, 0) + 1 :])
    return UNKNOWN, next((a for a in nearer if a is not None), remote)


def client_ip(request: HttpRequest) -> str:
    """The client's address: as ``RequestContextMiddleware`` resolved it for this request
    (``request.client_ip``), else resolved now."""
    resolved = getattr(request, "client_ip", None)
    return resolved if resolved is not None else resolve(request)[0]
