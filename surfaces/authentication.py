"""The key authentication of the seed systems' key-taking paths (Tatry, taap.it).

Their documents send the key as ``Authorization: Bearer <key>``; SPEC §3 admits that form on
the seed paths always (on ``/api/v1/`` only with ``TATER_ALLOW_BEARER_KEYS``). Everything
else is the core's ``ApiKeyAuthentication``: the same lookup, refusals, lockout, rate-limit
counting and usage tracking. A request with ``X-API-Key`` (or its alias) *and* an
``Authorization`` header naming anything else is refused (401 "Invalid authorization header
format"): of two credentials neither is guessed to be the one meant. The same key under both
is one credential, as on ``/api/v1/`` when bearer keys are admitted there.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from apikeys.authentication import HEADERS, ApiKeyAuthentication

CANONICAL_HEADER = "HTTP_X_API_KEY"


def bearer_credential(authorization: str | None) -> str | None:
    scheme, _, credential = (authorization or "").strip().partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


class BearerKeyAuthentication(ApiKeyAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        meta = request._request.META
        key = bearer_credential(meta.get("HTTP_AUTHORIZATION"))
        presented = [str(meta[header]).strip() for header in HEADERS if header in meta]
        if key is not None and not presented:
            # Handed to the core as its canonical header (as OrgPathView hands it the
            # path's org): one code path decides, whichever header carried the key. The
            # Authorization value has been read: it is the key, not a second credential.
            meta[CANONICAL_HEADER] = key
            del meta["HTTP_AUTHORIZATION"]
        elif key is not None and all(value == key for value in presented):
            # The key the key header(s) carry, sent the way the seed document says too: one
            # credential, read once (the core then checks it, revoked or not, as any other).
            del meta["HTTP_AUTHORIZATION"]
        return super().authenticate(request)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
