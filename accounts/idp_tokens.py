"""Identity-provider tokens on the API (SPEC §3).

``Authorization: Bearer <JWT>`` issued by a tenant's OpenID Connect identity provider (a
``TenantSSOConfig`` with protocol OIDC: Entra ID, Okta, Google) authenticates the Tater
user linked to it, like a session but without CSRF. An IdP token counts as an SSO sign-in.

1. Only JWT-shaped values are ours (three base64url segments, the first a JSON object).
   Anything else, and any request carrying ``X-API-Key``, goes on to the key
   authentication, which answers a non-JWT ``Authorization`` value with "Invalid
   authorization header format" (or reads a bearer key where a setting admits them).
2. The algorithm must be allow-listed (RS256, ES256): ``none``, HS256 (an HMAC keyed with
   the public key) and the rest are refused before any key is fetched.
3. The unverified ``iss`` and ``aud`` only choose the candidates: active OIDC
   configurations with that issuer whose client id is in the audience.
4. The signature is checked with the issuer's published keys: the JWKS URI from its
   ``/.well-known/openid-configuration`` (whose ``issuer`` must match), the keys through
   PyJWT's ``PyJWKClient``: the key set is cached (``JWKS_LIFESPAN``) and a token naming an
   unknown ``kid`` refetches it (at most once per ``TATER_IDP_JWKS_REFRESH_COOLDOWN``
   seconds), so a rotated signing key is picked up and a removed one stops working; a failed
   fetch is not retried for ``DISCOVERY_RETRY`` seconds. Both documents come from public
   addresses only (tater.outbound), without redirects, capped in size and time. The
   key's algorithm must be the token's. ``iss``, ``aud`` (the config's client id), ``exp``
   and ``sub`` (both required) and ``nbf`` are verified, with ``LEEWAY_SECONDS``.
5. The identity is (the config's provider id, ``sub``), as for SSO sign-ins (allauth's
   ``SocialAccount``): its user must be active, belong to the config's tenant and have an
   email in a domain that tenant verified (accounts.domains), as SSO linking requires.
6. The tenant's 2FA policy applies as ``accounts.middleware`` applies it to sessions: a
   member of a tenant requiring 2FA with no Tater second factor gets 403 ``MFA_REQUIRED``.
   "SSO required" is met: the token is an SSO sign-in.

Every failure of steps 2-5 is 401 ``Invalid token`` (``WWW-Authenticate: Bearer
error="invalid_token"``), counted by the lockout like a bad key; the reason is logged, never
the token. Except when the identity provider's documents cannot be had (unreachable, slow,
not JSON, naming another issuer: :class:`IdPUnavailable`): still 401 (the token is not
verified), but not counted, since the caller's credential was never found wrong and an
outage of the provider must not lock its users out (SPEC §6 counts the caller's own bad
credentials). The issuer is a configured one, so a caller cannot choose an unreachable one.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import logging
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import jwt
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.signals import setting_changed
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts import services, sso
from accounts.middleware import requires_2fa
from accounts.models import SSOProtocol, TenantSSOConfig
from apikeys.authentication import HEADERS as KEY_HEADERS
from tater import context, lockout, outbound
from tater.api.errors import Forbidden, Unauthorized

logger = logging.getLogger("tater.auth")

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30
DISCOVERY_TTL = 3600  # seconds an issuer's discovery document (its JWKS URI) is kept
DISCOVERY_RETRY = 30  # seconds a failed discovery is remembered (no fetch, and no wait, per token)
JWKS_LIFESPAN = 300  # seconds a key set is used before it is fetched again
FETCH_TIMEOUT = 5  # seconds per connect or read
FETCH_DEADLINE = 10  # seconds for a whole document (a byte-by-byte answer stops there)
MAX_DOCUMENT_BYTES = 1_000_000
MAX_TOKEN_CHARS = 16_384
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class InvalidIdPToken(Exception):
    """Why a JWT-shaped bearer value does not authenticate anyone (logged, never shown)."""


class IdPUnavailable(InvalidIdPToken):
    """The issuer's discovery document or key set could not be had: the token is unverified,
    not found wrong (not counted by the lockout)."""


@dataclass(frozen=True)
class IdPIdentity:
    """``request.auth`` of a request authenticated by an IdP token."""

    provider_id: str
    subject: str
    issuer: str
    tenant_pk: int


def jwt_from(authorization: str | None) -> str | None:
    """The JWT in an ``Authorization: Bearer`` value, or None when the value is not one."""
    scheme, _, credential = (authorization or "").strip().partition(" ")
    token = credential.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    parts = token.split(".")
    # The signature may be empty ("alg": "none"): still a JWT, refused as one.
    if (
        len(parts) != 3
        or not all(_SEGMENT.fullmatch(p) for p in parts[:2])
        or (parts[2] and not _SEGMENT.fullmatch(parts[2]))
    ):
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # RecursionError: a header nested too deep
        return None
    return token if isinstance(header, dict) else None


# --- The issuers' keys ----------------------------------------------------------------

_discovery: dict[str, tuple[float, str | None]] = {}  # issuer → (fetched at, JWKS URI or None: failed)
_clients: dict[str, jwt.PyJWKClient] = {}  # JWKS URI → its client (and key-set cache)
_lock = threading.Lock()


def reset_caches(**kwargs: Any) -> None:
    with _lock:
        _discovery.clear()
        _clients.clear()


setting_changed.connect(
    lambda *, setting, **kw: reset_caches() if setting == "TATER_IDP_JWKS_REFRESH_COOLDOWN" else None,
    dispatch_uid="accounts.idp_tokens.reset",
    weak=False,
)


def _fetch_json(url: str) -> Any:
    """The discovery document or the key set: public addresses only, no redirect, at most
    ``MAX_DOCUMENT_BYTES`` (tater.outbound: the URL is the tenant's choice)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (http(s) only, checked by open_url)
    try:
        with outbound.open_url(request, timeout=FETCH_TIMEOUT) as response:
            raw = _read_capped(response, url)
    except outbound.ForbiddenURL as exc:
        raise IdPUnavailable(f"not fetched: {exc}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise IdPUnavailable(f"cannot fetch {url}: {type(exc).__name__}") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise IdPUnavailable(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise IdPUnavailable(f"{url} is not JSON (or nested too deep)") from None


def _read_capped(response: Any, url: str) -> bytes:
    """At most ``MAX_DOCUMENT_BYTES + 1`` bytes, within ``FETCH_DEADLINE`` seconds."""
    deadline = time.monotonic() + FETCH_DEADLINE
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_DOCUMENT_BYTES:
        if time.monotonic() > deadline:
            raise IdPUnavailable(f"{url} took longer than {FETCH_DEADLINE} seconds")
        chunk = response.read1(min(65_536, MAX_DOCUMENT_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class _JWKClient(jwt.PyJWKClient):
    """PyJWT's client (key-set cache, refresh cooldown), fetching through ``_fetch_json``; a
    failed fetch is remembered for ``DISCOVERY_RETRY`` seconds, as for the discovery document
    (PyJWT's cooldown counts only from a successful fetch, so every token would refetch)."""

    _failed_at: float | None = None

    def fetch_data(self) -> Any:
        if self._failed_at is not None and time.monotonic() - self._failed_at < DISCOVERY_RETRY:
            raise jwt.PyJWKClientConnectionError("the key set failed moments ago")
        try:
            jwk_set = _fetch_json(self.uri)
            if not isinstance(jwk_set, dict):
                raise IdPUnavailable("the JWKS endpoint did not return a JSON object")
        except InvalidIdPToken as exc:
            self._failed_at = time.monotonic()
            raise jwt.PyJWKClientConnectionError(str(exc)) from None
        self._failed_at = None
        # What PyJWT's own fetch_data records: the refresh cooldown counts from it.
        self._last_successful_fetch = time.monotonic()
        return jwk_set


def _jwks_uri(issuer: str) -> str:
    issuer = issuer.rstrip("/")
    cached = _discovery.get(issuer)
    now = time.monotonic()
    if cached is not None:
        fetched_at, uri = cached
        if uri is not None and now - fetched_at < DISCOVERY_TTL:
            return uri
        if uri is None and now - fetched_at < DISCOVERY_RETRY:
            raise IdPUnavailable("the issuer's discovery document failed moments ago")
    try:
        uri = _discovered_jwks_uri(issuer)
    except IdPUnavailable:
        _discovery[issuer] = (now, None)
        raise
    _discovery[issuer] = (now, uri)
    return uri


def _discovered_jwks_uri(issuer: str) -> str:
    document = _fetch_json(f"{issuer}/.well-known/openid-configuration")
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        raise IdPUnavailable("the discovery document names another issuer")
    uri = document.get("jwks_uri")
    if not isinstance(uri, str) or urlparse(uri).scheme not in ("http", "https"):
        raise IdPUnavailable("the discovery document has no http(s) jwks_uri")
    return uri


def _jwks_client(issuer: str) -> jwt.PyJWKClient:
    uri = _jwks_uri(issuer)
    client = _clients.get(uri)
    if client is None:
        with _lock:
            client = _clients.get(uri)
            if client is None:
                # No per-kid cache (PyJWT's never expires): a key the IdP withdrew must stop
                # verifying once the key set is next fetched.
                client = _clients[uri] = _JWKClient(
                    uri,
                    cache_keys=False,
                    lifespan=JWKS_LIFESPAN,
                    timeout=FETCH_TIMEOUT,
                    cooldown_duration=float(settings.TATER_IDP_JWKS_REFRESH_COOLDOWN),
                )
    return client


# --- Verification -----------------------------------------------------------------------


def _audiences(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return []


def _candidates(issuer: Any, audiences: list[str]) -> list[TenantSSOConfig]:
    if not isinstance(issuer, str) or not issuer or not audiences:
        return []
    bare = issuer.rstrip("/")
    configs = TenantSSOConfig.objects.select_related("tenant").filter(
        protocol=SSOProtocol.OIDC, is_active=True, issuer__in=[bare, bare + "/"]
    )
    return [config for config in configs if config.client_id and config.client_id in audiences]


def verify(token: str) -> tuple[Any, IdPIdentity]:
    """The active user a JWT-shaped token authenticates, or ``InvalidIdPToken``."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
        if alg not in ALGORITHMS:
            raise InvalidIdPToken(f"algorithm {alg!r} is not allowed")
        unverified = jwt.decode(token, options={"verify_signature": False})
        issuer = unverified.get("iss")
        configs = _candidates(issuer, _audiences(unverified.get("aud")))
        if not configs:
            raise InvalidIdPToken("no active OIDC configuration has this issuer and audience")
        signing_key = _jwks_client(configs[0].issuer).get_signing_key_from_jwt(token)
        if signing_key.algorithm_name != alg:
            raise InvalidIdPToken(f"the signing key is for {signing_key.algorithm_name}, the token says {alg}")
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=[alg],
            audience=[c.client_id for c in configs],
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except InvalidIdPToken:
        raise
    except jwt.PyJWKClientConnectionError as exc:  # the key set could not be fetched (_JWKClient)
        raise IdPUnavailable(str(exc)) from None
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise InvalidIdPToken(f"{type(exc).__name__}: {exc}") from None
    by_provider = {config.provider_id: config for config in configs}
    account = (
        SocialAccount.objects.select_related("user")
        .filter(provider__in=list(by_provider), uid=str(claims["sub"]))
        .first()
    )
    if account is None:
        raise InvalidIdPToken("the subject is linked to no user")
    config, user = by_provider[account.provider], account.user
    if not user.is_active:
        raise InvalidIdPToken("the user is deactivated")
    if not sso.belongs_to_tenant(user, config.tenant):
        raise InvalidIdPToken("the user does not belong to the identity provider's tenant")
    if not sso.speaks_for(config, user.email):
        raise InvalidIdPToken("the user's email is not in a domain the tenant verified")
    return user, IdPIdentity(config.provider_id, str(claims["sub"]), str(issuer), config.tenant_id)


class IdPTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, IdPIdentity] | None:
        meta = request._request.META
        authorization = meta.get("HTTP_AUTHORIZATION")
        if authorization is None:
            return None
        token = jwt_from(authorization)
        if token is None:
            return None
        # Beside an API key header the key authenticates, but a token that fails
        # verification is never ignored: a request presenting a bad credential is refused.
        key_present = any(header in meta for header in KEY_HEADERS)
        try:
            user, identity = verify(token)
        except IdPUnavailable as exc:
            logger.warning("Identity-provider token not verified, the provider's documents are unavailable: %s", exc)
            raise Unauthorized("Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        except InvalidIdPToken as exc:
            logger.info("Identity-provider token refused: %s", exc)
            ip = getattr(request._request, "client_ip", None) or meta.get("REMOTE_ADDR", "")
            lockout.register_failure(ip=ip, kind="idp_token")
            raise Unauthorized("Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        if key_present:
            return None
        if requires_2fa(user, tenant_pk=identity.tenant_pk) and not services.has_2fa(user):
            raise Forbidden(
                "Your tenant requires two-factor authentication: enrol an authenticator at /accounts/2fa/ first",
                code="MFA_REQUIRED",
            )
        ctx = context.current()
        ctx.user_id = user.pk
        ctx.extra["user_email"] = user.email
        return user, identity

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey header="X-API-Key"'  # the API's challenge, as when the key authenticator came first


class IdPTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.idp_tokens.IdPTokenAuthentication"
    name = "IdPToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT from your tenant's OpenID Connect identity provider (RS256/ES256), "
            "audience = the SSO configuration's client id; authenticates the linked user like a session.",
        }
