"""Shared bases for API views."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.views import APIView

from tater import ratelimit
from tater.api.access import Access
from tater.api.errors import ApiError
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


class TaterAPIView(APIView):
    """Declares scopes per method (see tater.api.permissions) and turns DomainErrors
    raised by services into catalog errors."""

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

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, DomainError):
            exc = ApiError(exc.message, code=exc.code, status_code=exc.status_code, details=exc.details or None)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        ratelimit.finish(request, response)  # X-RateLimit-* headers, key usage counting
        return response

    @staticmethod
    def access(request: Request) -> Access:
        return request.access  # type: ignore[attr-defined,no-any-return]
