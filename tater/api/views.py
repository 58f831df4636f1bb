"""Shared bases for API views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from tater.api.errors import ApiError
from tater.api.fields import reject_repeated_query, reject_unknown_query
from tater.exceptions import DomainError

# Instances of the authentication, permission and throttle classes of Tater's views,
# shared: they keep no per-request state (DRF builds new ones on every request).
_shared: dict[tuple[type, ...], tuple[Any, ...]] = {}


def _instances(classes: Any) -> list[Any]:
    key = tuple(classes)
    found = _shared.get(key)
    if found is None:
        found = _shared[key] = tuple(cls() for cls in key)
    return list(found)


_hooks: list[tuple[Any, ...]] = []


def response_hooks() -> tuple[Any, ...]:
    """``TATER_API_RESPONSE_HOOKS``: callables ``(request, response)`` run on every API
    response (apps plug in here; the core imports none of them)."""
    if not _hooks:
        _hooks.append(tuple(import_string(path) for path in getattr(settings, "TATER_API_RESPONSE_HOOKS", ())))
    return _hooks[0]


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "TATER_API_RESPONSE_HOOKS":
        _hooks.clear()


setting_changed.connect(_on_setting_changed, dispatch_uid="tater.api.views.response_hooks")


class AcceptNegotiation(DefaultContentNegotiation):
    """The answer's media type by ``Accept`` alone: ``?format=`` is a query parameter like
    the others (the audit log's export reads it), not DRF's renderer switch, which answers
    404 for a format no renderer claims, on an endpoint that exists (SPEC §3)."""

    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:
        return list(renderers)


class CatalogErrorsView(APIView):
    """Mixed in before a DRF view whose answers are no JSON (the OpenAPI schema's YAML, the
    docs page): its errors go out as the exception handler's catalog JSON (SPEC §3), not through the
    page's renderer, after which JsonErrorsMiddleware could only replace them by status
    (a revoked key's KEY_REVOKED became a bare "Authentication required")."""

    def handle_exception(self, exc: Exception) -> Any:
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response


class TaterAPIView(APIView):
    """Declares scopes per method (see tater.api.permissions) and turns DomainErrors
    raised by services into catalog errors."""

    content_negotiation_class: type[BaseContentNegotiation] = AcceptNegotiation

    def get_authenticators(self) -> list[Any]:
        return _instances(self.authentication_classes)

    def get_permissions(self) -> list[Any]:
        return _instances(self.permission_classes)

    def get_throttles(self) -> list[Any]:
        return _instances(self.throttle_classes)

    required_scopes: dict[str, str | None] = {}
    allowed_key_types: Any = None
    org_required = True
    unbound_keys = "read"
    # The methods that only take access away (revoke, deactivate, remove a member): admitted
    # uncounted while the rate-limit store is down, even where limits fail closed
    # (TATER_RATELIMIT_FAIL_OPEN=0): an outage never stands between an operator and a leaked key.
    admitted_during_outage: frozenset[str] = frozenset()

    # Per method, the query parameters the endpoint reads: any other is a 400 naming it (the
    # org hints and ``format`` are read everywhere). None: the endpoint's are not checked.
    query_fields: dict[str, frozenset[str]] | None = None
    tolerated = frozenset({"format"})

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Once the caller is authenticated (a 401 stays a 401), before the handler reads
        # anything: a parameter sent twice with different values, or one the endpoint does
        # not read, is a 400 naming it.
        if request.META.get("QUERY_STRING"):
            reject_repeated_query(request.query_params)
            if self.query_fields is not None:
                method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
                accepted = self.query_fields.get(method or "GET", frozenset()) | self.tolerated
                reject_unknown_query(request.query_params, accepted)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, DomainError):
            exc = ApiError(exc.message, code=exc.code, status_code=exc.status_code, details=exc.details or None)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        for hook in response_hooks():
            hook(request, response)  # e.g. X-RateLimit-* headers and key usage (apikeys.throttling)
        return response

    @staticmethod
    def access(request: Request) -> Any:
        """The ``orgs.access.Access`` this request resolved to (set by ``ScopedPermission``)."""
        return request.access  # type: ignore[attr-defined]
