"""DRF authentication by API key (SPEC §3).

Returns ``None`` when the request carries no key of ours (session auth may follow) and
raises for our own invalid ones. The key is looked up by the SHA-256 digest of the whole
presented secret (a unique index, reached through the verified-key cache), so no
comparison ever runs on secret material and a warm request costs no query.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apikeys import keygen, usage
from apikeys.principal import KeyPrincipal, principal_for_digest
from tater import context, lockout
from tater.api.errors import ApiError, Forbidden, Unauthorized

HEADERS = ("HTTP_X_API_KEY", "HTTP_X_AGENT_API_KEY")


def _invalid() -> Unauthorized:
    return Unauthorized("Invalid token")


def presented_key(request: Request) -> str | None:
    """The raw key from the canonical header, its alias or (if enabled) a Bearer header."""
    meta = request.META
    for header in HEADERS:
        value = meta.get(header)
        if value is not None:
            return value.strip()
    authorization = meta.get("HTTP_AUTHORIZATION")
    if authorization is None:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    if settings.TATER_ALLOW_BEARER_KEYS and scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    # The Authorization header is not ours to read keys from: say so rather than ignore it.
    raise Unauthorized("Invalid authorization header format")


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, KeyPrincipal] | None:
        raw = presented_key(request)
        if raw is None:
            return None
        ip = getattr(request._request, "client_ip", request.META.get("REMOTE_ADDR", ""))
        try:
            principal = self.verify(raw, ip)
        except ApiError as exc:
            if exc.status_code == 401:
                # Only failures are counted and only failures are locked out: a valid key
                # always gets through, so an attacker cannot lock its holder out.
                lockout.register_failure(ip=ip, kind="api_key")
            raise
        ctx = context.current()
        ctx.user_id = principal.owner_pk
        ctx.api_key_id = principal.pk
        ctx.api_key_public_id = principal.public_id
        ctx.extra["user_email"] = principal.owner_email
        usage.touch(principal, ip)
        return _lazy_user(principal.owner_pk), principal

    def verify(self, raw: str, ip: str) -> KeyPrincipal:
        if not keygen.is_well_formed(raw):
            raise _invalid()
        digest = keygen.digest_of(raw)
        principal = principal_for_digest(digest)
        if principal is None:
            raise _invalid()
        now = timezone.now()
        if principal.revoked_at is not None:
            raise Unauthorized("API key has been revoked", code="KEY_REVOKED")
        if principal.matched_previous and (principal.previous_expires_at is None or principal.previous_expires_at <= now):
            # A rotated-out secret past its grace period is as dead as a revoked key.
            raise Unauthorized("API key has been revoked", code="KEY_REVOKED")
        if principal.expires_at is not None and principal.expires_at <= now:
            raise Unauthorized(
                "API key has expired", code="KEY_EXPIRED", details={"expired_at": principal.expires_at.isoformat()}
            )
        if not principal.is_active:
            raise Unauthorized("API key is deactivated", code="KEY_INACTIVE")
        if not principal.role_scopes:
            # The owner was removed, deactivated, or lost the role an unbound key needs.
            raise _invalid()
        if not principal.ip_allowed(ip):
            raise Forbidden("Client address is not in this API key's allowlist", code="IP_NOT_ALLOWED")
        return principal

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey header="X-API-Key"'


def _lazy_user(user_pk: int) -> Any:
    """The key's owner, loaded only if a view asks for it (keeps warm requests query-free)."""
    return SimpleLazyObject(lambda: get_user_model().objects.get(pk=user_pk))

