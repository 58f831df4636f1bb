"""Redis: start a key request's one round trip before the middleware runs.

A warm key request on Redis costs one script call (``tater.ratelimit.key_hit``: is the
memoized principal still current, and count the request). Made from authentication, the
worker waits for it there; most of that wait is Redis waking up, not work. Sent here
instead, right after the request's address is known, it runs while the rest of the
middleware and URL resolution do, and authentication only reads the reply.

Only for ``/api/`` requests presenting a well-formed key whose principal this process
has memoized and would admit from this address: the exact same call authentication would
make, with the same consequences. When authentication does not use it (the view takes no
key, the request is answered earlier, the key changed in between), ``settle`` gives the
count back. Any failure here just means no head start: authentication then decides (and
reports outages) exactly as without this middleware.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apikeys import keygen
from apikeys import principal as principals
from apikeys.authentication import _presented, refusal
from tater import ratelimit
from tater.api.errors import ApiError

logger = logging.getLogger("tater.ratelimit")

def send_ahead(request: HttpRequest) -> ratelimit.KeyHitAhead | None:
    backend, kind = principals.default_cache()
    if kind != "redis" or not request.path_info.startswith("/api/"):
        return None
    meta = request.META
    try:
        raw = _presented(meta)
    except ApiError:
        return None  # authentication will refuse the header itself
    if raw is None or not keygen.is_well_formed(raw):
        return None
    digest = keygen.digest_of(raw)
    entry = principals.memo_get(digest)
    if entry is None or entry[0] is None:
        return None
    principal, tag = entry
    ip = getattr(request, "client_ip", None) or meta.get("REMOTE_ADDR", "")
    if refusal(principal, ip) is not None:
        return None
    try:
        ahead = ratelimit.KeyHitAhead(backend, digest, tag, principal)
    except Exception as exc:  # an outage: authentication meets it again and decides
        logger.debug("key round trip not sent ahead: %s", type(exc).__name__)
        return None
    ahead.raw = raw
    setattr(request, ratelimit.AHEAD_ATTR, ahead)
    return ahead


class KeyRoundTripAheadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ahead = send_ahead(request)
        if ahead is None:
            return self.get_response(request)
        try:
            return self.get_response(request)
        finally:
            try:
                ahead.settle()
            except Exception as exc:  # bookkeeping: the response still goes out
                logger.warning("could not give back an unused key count: %s", type(exc).__name__)
