"""The error catalog (SPEC §3): every API error body is
``{"error": CODE, "message": TEXT, "details": {...}}`` plus the request id.
"""

from __future__ import annotations

import logging
import math
import re
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import csrf
from rest_framework import exceptions, status
from rest_framework.response import Response

from tater import outages

logger = logging.getLogger("tater.api")

# Paths every answer of which is JSON (SPEC §3): the API and the seed systems' own
# surfaces (SPEC §5a: Tatry and taap.it under /v1/, TigerTrust under /api/auth/, Taffy's
# /auth/token).
JSON_PATH_PREFIXES = ("/api/", "/v1/", "/auth/")
_JSON_PATH_ROOTS = frozenset(prefix.rstrip("/") for prefix in JSON_PATH_PREFIXES)


def answers_json(path: str) -> bool:
    """Whether every answer under this path is JSON, errors included."""
    return path.startswith(JSON_PATH_PREFIXES) or path in _JSON_PATH_ROOTS


class ApiError(exceptions.APIException):
    """An API error with a catalog code; raise it from anywhere in the API stack."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "BAD_REQUEST"
    message = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        if status_code is not None:
            self.status_code = status_code
        self.details = details
        self.headers = headers or {}
        super().__init__(detail=self.message, code=self.code)


class Unauthorized(ApiError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Missing API key"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Forbidden(ApiError):
    status_code = 403
    code = "PERMISSION_DENIED"
    message = "You do not have permission to perform this action"


class NotFound(ApiError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Not found"


class ValidationFailed(ApiError):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "Invalid request"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "Request body is too large"


class RateLimited(ApiError):
    """429 ``RATE_LIMITED`` for a refused ``tater.limiter.Decision``, with its headers."""

    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, decision: Any) -> None:
        binding = decision.binding
        retry_after = max(1, math.ceil(decision.retry_after))
        super().__init__(
            f"Rate limit exceeded, retry in {retry_after} seconds",
            details={"limit": binding.limit, "window_seconds": binding.rule.seconds, "reset": math.ceil(binding.reset)},
            headers=decision.headers(),
        )


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "Service temporarily unavailable, retry shortly"


def max_body_bytes() -> int:
    """Largest request body on any endpoint (``TATER_MAX_UPLOAD_BYTES``, 5 MB by default);
    read per request so tests can override it."""
    return int(getattr(settings, "TATER_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def payload_too_large() -> PayloadTooLarge:
    limit = max_body_bytes()
    return PayloadTooLarge(f"Request body is larger than {limit} bytes", details={"max_bytes": limit})


def django_error(exc: Exception) -> ApiError | None:
    """Django's refusals of a request (raised while reading it) as catalog errors."""
    if isinstance(exc, RequestDataTooBig):
        return payload_too_large()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        message = f"Too many query or form fields (at most {limit})"
        return ValidationFailed(message, details={"fields": {"query": [message]}})
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return ValidationFailed("Bad request")
    return None


def error_body(code: str, message: str, details: dict[str, Any] | None, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = details
    if request_id:
        body["request_id"] = request_id
    return body


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as ``{"field.sub": [messages]}``."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "non_field_errors"
            fields.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}[{index}]"))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def validation_error(detail: Any) -> tuple[str, dict[str, Any]]:
    fields = _flatten(detail)
    first_field, messages = next(iter(fields.items()))
    if first_field == "non_field_errors":
        message = messages[0]
    else:
        message = f"{first_field}: {messages[0]}"
    return message, {"fields": fields}


def _request_id(request: HttpRequest | None) -> str | None:
    return getattr(request, "request_id", None)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: maps every exception to the catalog format."""
    request = context.get("request")
    raw_request = getattr(request, "_request", request)
    headers: dict[str, str] = {}
    details: dict[str, Any] | None = None

    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = Forbidden()
    elif (refusal := django_error(exc)) is not None:
        if isinstance(exc, SuspiciousOperation):
            # Logged as Django logs the ones it catches itself (security monitoring).
            logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
        exc = refusal

    if isinstance(exc, ApiError):
        code, message, status_code = exc.code, exc.message, exc.status_code
        details = exc.details
        headers.update(exc.headers)
    elif isinstance(exc, exceptions.ValidationError):
        code, status_code = "VALIDATION_ERROR", 400
        message, details = validation_error(exc.detail)
    elif isinstance(exc, exceptions.ParseError):
        code, status_code = "VALIDATION_ERROR", 400
        message, details = f"Malformed request body: {exc.detail}", {"fields": {"body": [str(exc.detail)]}}
    elif isinstance(exc, exceptions.NotAuthenticated):
        code, message, status_code = "UNAUTHORIZED", "Missing API key", 401
    elif isinstance(exc, exceptions.AuthenticationFailed):
        code, message, status_code = "UNAUTHORIZED", "Invalid token", 401
    elif isinstance(exc, exceptions.PermissionDenied):
        code, message, status_code = "PERMISSION_DENIED", str(exc.detail), 403
    elif isinstance(exc, exceptions.NotFound):
        code, message, status_code = "NOT_FOUND", "Not found", 404
    elif isinstance(exc, exceptions.MethodNotAllowed):
        code, message, status_code = "METHOD_NOT_ALLOWED", str(exc.detail), 405
    elif isinstance(exc, exceptions.NotAcceptable):
        code, message, status_code = "NOT_ACCEPTABLE", str(exc.detail), 406
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        code, message, status_code = "UNSUPPORTED_MEDIA_TYPE", str(exc.detail), 415
    elif isinstance(exc, exceptions.Throttled):
        code, status_code = "RATE_LIMITED", 429
        # Throttled sets .wait in __init__, but the stubs do not declare it.
        wait = int(getattr(exc, "wait", None) or 1)
        message = f"Rate limit exceeded, retry in {wait} seconds"
        headers["Retry-After"] = str(wait)
    elif isinstance(exc, exceptions.APIException):
        code, message, status_code = "ERROR", str(exc.detail), exc.status_code
    elif outages.is_outage(exc):
        # The database or the cache is unreachable: retryable, and not the caller's fault.
        logger.error("Service outage (request %s): %s", _request_id(raw_request), exc)
        code, message, status_code = ServiceUnavailable.code, ServiceUnavailable.message, 503
        headers["Retry-After"] = str(outages.RETRY_AFTER_SECONDS)
    else:
        logger.exception("Unhandled API error (request %s)", _request_id(raw_request))
        code, message, status_code = "INTERNAL_ERROR", "Internal server error", 500
        details = {"request_id": _request_id(raw_request)}

    if status_code == 401 and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
    response = Response(
        error_body(code, message, details, _request_id(raw_request)), status=status_code, headers=headers
    )
    return response


def json_error(
    request: HttpRequest, status_code: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JsonResponse:
    """A catalog error outside DRF (Django's 404/500 handlers, middleware)."""
    return JsonResponse(error_body(code, message, details, _request_id(request)), status=status_code)


def api_error_response(request: HttpRequest, exc: ApiError) -> JsonResponse:
    """An ApiError answered outside DRF (middleware, Django's error views)."""
    response = json_error(request, exc.status_code, exc.code, exc.message, exc.details)
    for name, value in exc.headers.items():
        response[name] = value
    return response


# What an error answered outside the API views (Django's pages, other middleware) becomes
# under the JSON paths, by status.
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("VALIDATION_ERROR", "Bad request"),
    401: (Unauthorized.code, "Authentication required"),
    403: (Forbidden.code, Forbidden.message),
    404: (NotFound.code, NotFound.message),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: (PayloadTooLarge.code, PayloadTooLarge.message),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type: send application/json"),
    429: ("RATE_LIMITED", "Too many requests"),
    500: ("INTERNAL_ERROR", "Internal server error"),
    503: (ServiceUnavailable.code, ServiceUnavailable.message),
}


def status_error(request: HttpRequest, status_code: int) -> JsonResponse:
    """The catalog error for a bare status (an HTML error page's, say)."""
    code, message = _STATUS_ERRORS.get(status_code, ("", ""))
    if not code:
        try:
            message = HTTPStatus(status_code).phrase
        except ValueError:
            message = "Error"
        code = re.sub(r"[^A-Z0-9]+", "_", message.upper()).strip("_") or "ERROR"
    details = {"request_id": _request_id(request)} if status_code == 500 else None
    return json_error(request, status_code, code, message, details)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: under the JSON paths the catalog error DRF's session
    authentication gives too (403 PERMISSION_DENIED, "CSRF Failed: ..."), Django's page
    elsewhere."""
    if not answers_json(request.path_info):
        return csrf.csrf_failure(request, reason)
    return api_error_response(request, Forbidden(f"CSRF Failed: {reason or 'no valid token.'}"))
