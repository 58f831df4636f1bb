"""Shared bases for API views."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.views import APIView

from tater import ratelimit
from tater.api.access import Access
from tater.api.errors import ApiError
from tater.exceptions import DomainError


class TaterAPIView(APIView):
    """Declares scopes per method (see tater.api.permissions) and turns DomainErrors
    raised by services into catalog errors."""

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
