"""DRF authentication by API key (SPEC §3): the header glue around ``apikeys.keycheck``.

Returns ``None`` when the request carries no key of ours (session auth may follow) and
raises for our own invalid ones. ``keycheck.check`` verifies the key and counts the
request in one call; its decision is put on the request as ``request.rate_limit`` for
``apikeys.throttling`` to apply. Failures (401) are counted by the lockout.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.functional import SimpleLazyObject
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apikeys import keycheck, usage
from apikeys.principal import KeyPrincipal
from apikeys.throttling import RequestRate, admitted_during_outage
from tater import context, limiter, lockout
from tater.api.errors import ApiError, Unauthorized
from tater.client_ip import client_ip

KEY_HEADER, ALIAS_HEADER = HEADERS = ("HTTP_X_API_KEY", "HTTP_X_AGENT_API_KEY")


def presented_key(request: Request) -> str | None:
    """The raw key from the canonical header, its alias or (if enabled) a Bearer header."""
    return _presented(getattr(request, "_request", request).META)


def _presented(meta: dict[str, Any]) -> str | None:
    authorization = meta.get("HTTP_AUTHORIZATION")
    key, alias = meta.get(KEY_HEADER), meta.get(ALIAS_HEADER)
    value = key if key is not None else alias
    if value is not None:
        if key is not None and alias is not None and key.strip() != alias.strip():
            # Two keys (X-API-Key and its alias): refused, never one of them picked, so a
            # revoked or another tenant's key is never overlooked beside a valid one.
            raise Unauthorized("Invalid authorization header format")
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


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, KeyPrincipal] | None:
        django_request = request._request
        meta = django_request.META
        raw = _presented(meta)
        if raw is None:
            return None
        ip = client_ip(django_request)
        try:
            view = (request.parser_context or {}).get("view")
            with limiter.admitting_on_outage(admitted_during_outage(request, view)):
                checked = keycheck.check(raw, ip)
        except ApiError as exc:
            if exc.status_code == 401:
                # Only failures are counted and only failures are locked out: a valid key
                # always gets through, so an attacker cannot lock its holder out.
                lockout.register_failure(ip=ip, kind="api_key")
            raise
        # The one rate-limit decision of this request (apikeys.throttling applies it).
        setattr(django_request, "rate_limit", RequestRate(checked.entity, checked.decision, counted=checked.counted))  # noqa: B010
        principal = checked.principal
        ctx = context.current()
        ctx.user_id = principal.owner_pk
        ctx.api_key_id = principal.pk
        ctx.api_key_public_id = principal.public_id
        ctx.extra["user_email"] = principal.owner_email
        usage.touch(principal, ip, seen=checked.use_seen)
        usage.record(principal.pk)  # a request of this key (its errors: apikeys.throttling)
        return _lazy_user(principal.owner_pk), principal

    def verify(self, raw: str, ip: str) -> KeyPrincipal:
        """The current principal of ``raw`` if it may authenticate from ``ip`` (no counting)."""
        return keycheck.verify(raw, ip)

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey header="X-API-Key"'


def _lazy_user(user_pk: int) -> Any:
    """The key's owner, loaded only if a view asks for it (keeps warm requests query-free)."""
    return SimpleLazyObject(lambda: get_user_model().objects.get(pk=user_pk))
