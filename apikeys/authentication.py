"""DRF authentication by API key (SPEC §3).

Returns ``None`` when the request carries no key of ours (session auth may follow) and
raises for our own invalid ones. The key is looked up by the SHA-256 digest of the whole
presented secret (a unique index, reached through the verified-key cache, see
``apikeys.principal``), so no comparison ever runs on secret material and a warm request
costs no query.

On Redis, a warm request costs one round trip: the principal comes from the process memo
and one Lua call (``tater.ratelimit.key_hit``) both confirms it is current (its digest's
generation is unchanged) and counts the request against the key's rate limits and usage.
The throttle then only applies that decision, and ``ratelimit.finish`` gives the quota
back when the request is refused before the limiter (403).
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
from apikeys import principal as principals
from apikeys.principal import KeyPrincipal, principal_for_digest
from tater import context, faults, lockout, ratelimit
from tater.api.errors import ApiError, Forbidden, Unauthorized

HEADERS = ("HTTP_X_API_KEY", "HTTP_X_AGENT_API_KEY")
# Generation changes seen by one request before it stops re-checking (a key changed
# again while being reloaded, each time): the last load is then used as is.
MAX_RELOADS = 3


def _invalid() -> Unauthorized:
    return Unauthorized("Invalid token")


def presented_key(request: Request) -> str | None:
    """The raw key from the canonical header, its alias or (if enabled) a Bearer header."""
    return _presented(getattr(request, "_request", request).META)


def _presented(meta: dict[str, Any]) -> str | None:
    authorization = meta.get("HTTP_AUTHORIZATION")
    for header in HEADERS:
        value = meta.get(header)
        if value is not None:
            if authorization is not None and not _same_bearer(authorization, value):
                # A second credential beside the key is refused, never ignored: a client
                # must not believe an Authorization value it sends is being checked.
                raise Unauthorized("Invalid authorization header format")
            return value.strip()
    if authorization is None:
        return None
    scheme, _, credential = authorization.strip().partition(" ")
    if settings.TATER_ALLOW_BEARER_KEYS and scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    # The Authorization header is not ours to read keys from: say so rather than ignore it.
    raise Unauthorized("Invalid authorization header format")


def _same_bearer(authorization: str, key: str) -> bool:
    scheme, _, credential = authorization.strip().partition(" ")
    return bool(settings.TATER_ALLOW_BEARER_KEYS) and scheme.lower() == "bearer" and credential.strip() == key.strip()


def refusal(principal: KeyPrincipal, ip: str) -> ApiError | None:
    """Why this (current) principal may not authenticate from ``ip``, or None."""
    if principal.revoked_at is not None:
        return Unauthorized("API key has been revoked", code="KEY_REVOKED")
    now = None
    if principal.matched_previous:
        now = timezone.now()
        if principal.previous_expires_at is None or principal.previous_expires_at <= now:
            # A rotated-out secret past its grace period is as dead as a revoked key.
            return Unauthorized("API key has been revoked", code="KEY_REVOKED")
    if principal.expires_at is not None and principal.expires_at <= (now or timezone.now()):
        return Unauthorized(
            "API key has expired", code="KEY_EXPIRED", details={"expired_at": principal.expires_at.isoformat()}
        )
    if not principal.is_active:
        return Unauthorized("API key is deactivated", code="KEY_INACTIVE")
    if not principal.role_scopes:
        # The owner was removed, deactivated, or lost the role an unbound key needs.
        return _invalid()
    if principal.allowed_ips and not principal.ip_allowed(ip):
        return Forbidden("Client address is not in this API key's allowlist", code="IP_NOT_ALLOWED")
    return None


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, KeyPrincipal] | None:
        django_request = request._request
        meta = django_request.META
        raw = _presented(meta)
        if raw is None:
            return None
        ip = getattr(django_request, "client_ip", None)
        if ip is None:
            ip = meta.get("REMOTE_ADDR", "")
        try:
            principal = self._verify(raw, ip, django_request)
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
        """The current principal of ``raw`` if it may authenticate from ``ip`` (no counting)."""
        if not keygen.is_well_formed(raw):
            raise _invalid()
        principal = principal_for_digest(keygen.digest_of(raw))
        if principal is None:
            raise _invalid()
        error = refusal(principal, ip)
        if error is not None:
            raise error
        return principal

    def _verify(self, raw: str, ip: str, django_request: Any) -> KeyPrincipal:
        ahead = django_request.__dict__.get(ratelimit.AHEAD_ATTR)
        if ahead is not None and ahead.raw == raw:
            digest = ahead.digest  # checked and hashed by the middleware
        elif keygen.is_well_formed(raw):
            digest = keygen.digest_of(raw)
        else:
            raise _invalid()
        backend, kind = principals.default_cache()
        django_request._tater_cache = backend  # looked up once per request (the throttle reuses it)
        if kind != "redis":
            principal = principals.locmem_lookup(digest) if kind == "locmem" else principal_for_digest(digest)
            if principal is None:
                raise _invalid()
            error = refusal(principal, ip)
            if error is not None:
                raise error
            return principal
        try:
            return _verify_and_count(backend, digest, ip, django_request)
        except Exception as exc:
            if not (faults.is_outage(exc) and principals.fails_soft(backend)):
                raise
            # Redis is down: nothing to check a memo against, so the database decides;
            # the throttle then fails open or closed per TATER_RATELIMIT_FAIL_OPEN.
            django_request.__dict__.pop(ratelimit.KEY_COUNT_ATTR, None)
            principal = principals._load(digest)
            if principal is None:
                raise _invalid() from None
            error = refusal(principal, ip)
            if error is not None:
                raise error from None
            return principal

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey header="X-API-Key"'


def _verify_and_count(backend: Any, digest: str, ip: str, django_request: Any) -> KeyPrincipal:
    """Redis: the memo's principal confirmed current and counted in one round trip; on a
    changed (or unknown) generation, reload as of the current one and decide again."""
    entry = principals.memo_get(digest)
    principal, tag = entry if entry is not None else (None, None)
    ahead = django_request.__dict__.get(ratelimit.AHEAD_ATTR)  # the same call, sent by the middleware
    for attempt in range(MAX_RELOADS + 1):
        if principal is not None:
            if ahead is not None and ahead.matches(digest, tag, principal):
                # Sent for this very principal after the same checks, moments ago.
                error, (gen, counted) = None, ahead.receive()
            else:
                error = refusal(principal, ip)
                if error is None:
                    gen, counted = ratelimit.key_hit(backend, digest, tag, principal)
            if error is None:
                if counted is not None:
                    django_request.__dict__[ratelimit.KEY_COUNT_ATTR] = counted
                    return principal
            else:
                # Refused as memoized: confirm it is current before refusing (no counting).
                gen = ratelimit.key_generation(backend, digest)
                if gen == tag:
                    raise error
            if attempt == MAX_RELOADS:
                break
        else:
            gen = ratelimit.key_generation(backend, digest)
        # Loaded after reading ``gen``: current as of ``gen`` (a later change moves it on).
        principal, tag = principals.load_under(backend, digest, gen), gen
        if principal is None:
            raise _invalid()
    # The key kept changing under us: decide on the last load, counted without a check.
    error = refusal(principal, ip)  # type: ignore[arg-type]
    if error is not None:
        raise error
    return principal  # type: ignore[return-value]


def _lazy_user(user_pk: int) -> Any:
    """The key's owner, loaded only if a view asks for it (keeps warm requests query-free)."""
    return SimpleLazyObject(lambda: get_user_model().objects.get(pk=user_pk))
