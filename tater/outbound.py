"""Server-side requests to URLs a tenant chose (its identity provider's discovery document and
signing keys): not a way into the operator's network.

A tenant owner sets the URL, and anyone can make the server fetch it (a JWT naming the issuer
is enough), so an address that is not public (loopback, RFC 1918, link-local such as cloud
metadata at 169.254.169.254, unique-local IPv6…) is refused unless
``TATER_IDP_FETCH_PRIVATE_ADDRESSES`` admits it (an identity provider inside the operator's
network; on by default only in DEBUG and tests, whose identity providers run on loopback).
Redirects are never followed: their target would escape the check. The check resolves the
host name before the request connects; a name re-resolving to another address in between
(DNS rebinding) is not covered: a deployment that must exclude it puts an egress proxy or
firewall in front.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlparse

from django.conf import settings


class ForbiddenURL(ValueError):
    """The URL is not http(s) or names an address the server may not reach on a tenant's behalf."""


def private_addresses_allowed() -> bool:
    return bool(getattr(settings, "TATER_IDP_FETCH_PRIVATE_ADDRESSES", False))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, unresolvable_ok: bool = False) -> None:
    """``ForbiddenURL`` unless ``url`` is http(s) and its host resolves to public addresses only
    (any address when private ones are admitted). ``unresolvable_ok``: a name that does not
    resolve now passes (checked again when it is fetched)."""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError:
        raise ForbiddenURL(f"not a valid URL: {url}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ForbiddenURL(f"not an http(s) URL: {url}")
    if private_addresses_allowed():
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        if unresolvable_ok:
            return
        raise ForbiddenURL(f"cannot resolve {parsed.hostname}") from None
    if not infos or not all(_is_public(str(info[4][0])) for info in infos):
        raise ForbiddenURL(f"{parsed.hostname} is not a public address")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is then raised as an HTTPError


_opener = urllib.request.build_opener(_NoRedirect())


def open_url(request: urllib.request.Request, *, timeout: float) -> Any:
    """``urlopen`` for a checked URL (``check_url``), without following redirects."""
    check_url(request.full_url)
    return _opener.open(request, timeout=timeout)


def guard_session(session: Any) -> Any:
    """A ``requests`` session (allauth's, for the identity providers' discovery, token,
    userinfo and key endpoints) whose requests pass ``check_url`` and follow no redirect; a
    refused URL raises ``requests.exceptions.InvalidURL``, which allauth treats as a failed
    request to the provider."""
    import requests

    send = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            check_url(url)
        except ForbiddenURL as exc:
            raise requests.exceptions.InvalidURL(str(exc)) from None
        kwargs["allow_redirects"] = False
        return send(method, url, *args, **kwargs)

    session.request = request
    return session
