"""``Authorization: Bearer scim_…`` on ``/scim/v2/`` (and nowhere else).

A request without the header is a 401; so is anything but a live SCIM token: an API key
(``tater_…``, in any header), a revoked token, an unknown one. Failures count towards the
client lockout like failed API keys (tater.lockout). On success the request's audit
context becomes the ``scim`` channel with the token's id as the acting key.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from scim import selectors
from scim.models import ScimToken
from scim.protocol.errors import ScimError, unauthorized
from tater import context, lockout
from tater.api.errors import ApiError

KEY_HEADERS = ("HTTP_X_API_KEY", "HTTP_X_AGENT_API_KEY")


def _refuse(request: Request, detail: str) -> ScimError:
    django_request = request._request
    ip = getattr(django_request, "client_ip", None) or django_request.META.get("REMOTE_ADDR", "")
    try:
        lockout.register_failure(ip=ip, kind="scim_token")
    except ApiError as exc:  # LOCKED_OUT: 429 in SCIM's error format
        return ScimError(exc.status_code, exc.message, headers=exc.headers)
    return unauthorized(detail)


class ScimTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[None, ScimToken] | None:
        meta = request._request.META
        ctx = context.current()
        ctx.channel = "scim"
        if any(meta.get(h) for h in KEY_HEADERS):
            raise _refuse(request, "API keys are not accepted here: send a SCIM token as Authorization: Bearer scim_…")
        header = meta.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise _refuse(request, "Invalid authorization header format: send Authorization: Bearer scim_…")
        token = selectors.scim_token_authenticate(credential.strip())
        if token is None:
            raise _refuse(request, "Invalid token")
        if token.revoked_at is not None:
            raise _refuse(request, "SCIM token has been revoked")
        ctx.user_id = None
        ctx.api_key_id = None
        ctx.api_key_public_id = token.public_id
        ctx.extra["user_email"] = ""
        return None, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="SCIM"'


class HasScimToken(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ScimToken):
            raise unauthorized("Missing SCIM token: send Authorization: Bearer scim_…")
        return True
