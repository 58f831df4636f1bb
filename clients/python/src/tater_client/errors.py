"""Tater's error catalog as exceptions.

Every API error body is ``{"error": CODE, "message": TEXT, "details": {...}, "request_id": ID}``.
:func:`error_from_response` turns one into the exception of its family, so callers can
catch broadly (:class:`TaterError`) or narrowly (:class:`PermissionDenied`) and still read
the catalog ``code`` (``KEY_REVOKED``, ``WORKSPACE_ACCESS_DENIED``, ...).
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx


@dataclass(frozen=True)
class RateLimitInfo:
    """The ``X-RateLimit-*`` headers of one response: the tightest window's quota."""

    limit: int
    remaining: int
    reset: datetime
    """When that window's quota is whole again (the header is epoch seconds)."""

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimitInfo | None:
        try:
            limit = int(headers["X-RateLimit-Limit"])
            remaining = int(headers["X-RateLimit-Remaining"])
            # A reset no date can hold (inf, nan, 1e30) is no information, not a failed call.
            reset = datetime.fromtimestamp(float(headers["X-RateLimit-Reset"]), tz=timezone.utc)
        except (KeyError, ValueError, OverflowError, OSError):
            return None
        return cls(limit=limit, remaining=remaining, reset=reset)

    def seconds_until_reset(self, now: float | None = None) -> float:
        return max(0.0, self.reset.timestamp() - (time.time() if now is None else now))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: delta seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _utc(value: Any) -> datetime | None:
    """A date-time of the error's details (``...Z``) as an aware datetime, else ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:  # "...Z": fromisoformat reads it only from Python 3.11
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


class TaterError(Exception):
    """Any error answered by the Tater API (or met on the way to it).

    Attributes:
        code: the catalog code, e.g. ``UNAUTHORIZED``, ``KEY_REVOKED``, ``VALIDATION_ERROR``.
        message: the human-readable message the server gave.
        details: the ``details`` object (empty when the server sent none).
        request_id: the server's request id (also in the ``X-Request-ID`` header): quote it
            when asking an operator about a failed call.
        status: the HTTP status, or ``None`` when no response was received.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details: dict[str, Any] = details or {}
        self.request_id = request_id
        self.headers = headers if headers is not None else httpx.Headers()

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class AuthenticationError(TaterError):
    """401: the key is missing, malformed, unknown, revoked, expired or deactivated; or, in a
    credential exchange, the email and password are not an account's.

    ``code`` tells which: ``UNAUTHORIZED``, ``KEY_REVOKED``, ``KEY_EXPIRED``, ``KEY_INACTIVE``,
    ``INVALID_CREDENTIALS``, ``INVALID_OTP`` (:class:`InvalidOtp`).
    """


class PermissionDenied(TaterError):
    """403: the key may not do this (``PERMISSION_DENIED``, ``KEY_TYPE_NOT_ALLOWED``,
    ``WORKSPACE_ACCESS_DENIED``, ``IP_NOT_ALLOWED``)."""

    @property
    def required_permissions(self) -> list[str]:
        return list(self.details.get("required_permissions") or [])

    @property
    def current_permissions(self) -> list[str]:
        return list(self.details.get("current_permissions") or [])


class NotFound(TaterError):
    """404: no such object in the caller's reach (a foreign tenant's object is a 404 too)."""


class ValidationError(TaterError):
    """400: a bad body or query (``VALIDATION_ERROR``, ``AMBIGUOUS_ORG``).

    ``fields`` maps each failing field (``"findings.0.severity"``) to its messages.
    """

    @property
    def fields(self) -> dict[str, list[str]]:
        raw = self.details.get("fields") or {}
        return {str(name): [str(m) for m in messages] for name, messages in raw.items()}


class RateLimited(TaterError):
    """429: ``RATE_LIMITED`` (the key's quota), ``LOCKED_OUT`` (too many failed sign-ins
    from this address) or ``USAGE_EXHAUSTED`` (the key's use count: :class:`UsageExhausted`).

    ``retry_after`` is the server's ``Retry-After`` in seconds (``None`` if absent);
    ``rate_limit`` the ``X-RateLimit-*`` headers, when sent.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = parse_retry_after(self.headers.get("Retry-After"))
        self.rate_limit = RateLimitInfo.from_headers(self.headers)


class UsageExhausted(RateLimited):
    """429 ``USAGE_EXHAUSTED``: the key's usage limit is used up. Final until ``resets_at``
    (the refill: up to a month away) or for good (``None``: no refill), so never retried:
    waiting out ``retry_after`` in a script would sleep for weeks. The key's owner can raise
    or remove the limit; or use another key."""

    @property
    def limit(self) -> int | None:
        value = self.details.get("limit")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def refill(self) -> str | None:
        """``daily``, ``monthly``, or ``None``: the uses never come back."""
        value = self.details.get("refill")
        return str(value) if value else None

    @property
    def resets_at(self) -> datetime | None:
        """When the uses come back (aware, UTC); ``None`` without a refill."""
        return _utc(self.details.get("resets_at"))


class ServerError(TaterError):
    """5xx: ``INTERNAL_ERROR`` (quote ``request_id``), ``SERVICE_UNAVAILABLE`` (retry later)."""


# One class per catalog code (SPEC §3), under its family: ``except KeyRevoked`` or ``except
# AuthenticationError``, as the caller needs. Each keeps ``code``, ``message``, ``request_id``.


class KeyRevoked(AuthenticationError):
    """401 ``KEY_REVOKED``: revoked for good (or a rotated-out secret past its grace)."""


class KeyExpired(AuthenticationError):
    """401 ``KEY_EXPIRED``: past its expiry (``expired_at``)."""

    @property
    def expired_at(self) -> datetime | None:
        return _utc(self.details.get("expired_at"))


class KeyInactive(AuthenticationError):
    """401 ``KEY_INACTIVE``: deactivated; its owner can activate it again."""


class AmbiguousOrg(ValidationError):
    """400 ``AMBIGUOUS_ORG``: an unbound key in a tenant of several orgs: pass ``organization_id``."""


class WorkspaceAccessDenied(PermissionDenied):
    """403 ``WORKSPACE_ACCESS_DENIED``: the org (or tenant) hint names one the key cannot reach."""


class IpNotAllowed(PermissionDenied):
    """403 ``IP_NOT_ALLOWED``: the caller's address is outside the key's allowlist."""


class KeyTypeNotAllowed(PermissionDenied):
    """403 ``KEY_TYPE_NOT_ALLOWED``: this endpoint does not admit the key's type."""


class InvalidOtp(AuthenticationError):
    """401 ``INVALID_OTP`` (credential exchange): the account has two-factor authentication
    and the code was missing (send ``code=``), wrong or already used; or, with ``retry_after``
    set, too many wrong codes: none is checked before then."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))

    @property
    def code_required(self) -> bool:
        """True when no code was sent and the account needs one (``details.code_required``):
        ask the person for it; False when the code sent was refused."""
        return self.details.get("code_required") is True


class LockedOut(RateLimited):
    """429 ``LOCKED_OUT``: too many failed attempts from this address (``retry_after``); never retried."""


class Conflict(TaterError):
    """409 ``CONFLICT``: the change conflicts with the current state (the tenant's last owner
    can be neither demoted nor removed: promote another owner first)."""


class MethodNotAllowed(TaterError):
    """405 ``METHOD_NOT_ALLOWED``."""


class PayloadTooLarge(TaterError):
    """413 ``PAYLOAD_TOO_LARGE``: the body is over the server's limit (5 MB by default)."""


class ServiceUnavailable(ServerError):
    """503 ``SERVICE_UNAVAILABLE``: retried within the policy's budget; try again later."""


class TransportError(TaterError):
    """No usable answer: the connection failed or timed out (``code`` is
    ``CONNECTION_ERROR`` or ``TIMEOUT``; ``status`` is ``None``)."""


_BY_STATUS: dict[int, type[TaterError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


_BY_CODE: dict[str, tuple[int, type[TaterError]]] = {
    "KEY_REVOKED": (401, KeyRevoked),
    "KEY_EXPIRED": (401, KeyExpired),
    "KEY_INACTIVE": (401, KeyInactive),
    "INVALID_OTP": (401, InvalidOtp),
    "AMBIGUOUS_ORG": (400, AmbiguousOrg),
    "WORKSPACE_ACCESS_DENIED": (403, WorkspaceAccessDenied),
    "IP_NOT_ALLOWED": (403, IpNotAllowed),
    "KEY_TYPE_NOT_ALLOWED": (403, KeyTypeNotAllowed),
    "LOCKED_OUT": (429, LockedOut),
    "USAGE_EXHAUSTED": (429, UsageExhausted),
    "METHOD_NOT_ALLOWED": (405, MethodNotAllowed),
    "PAYLOAD_TOO_LARGE": (413, PayloadTooLarge),
    "SERVICE_UNAVAILABLE": (503, ServiceUnavailable),
}
"""A code's own class, when it comes with its catalog status (else the status's family)."""


def error_class(status: int) -> type[TaterError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else TaterError


def error_from_response(response: httpx.Response, content: bytes | None = None) -> TaterError:
    """The exception for an error response: its body is ``content``, else the response's
    (which must then have been read)."""
    status = response.status_code
    try:
        body = json.loads(response.content if content is None else content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser follows
        body = None
    request_id = response.headers.get("X-Request-ID")
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code = body["error"]
        message = str(body.get("message") or response.reason_phrase or "Error")
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        request_id = body.get("request_id") or request_id
    else:
        # Not a catalog body (a proxy's page, say): keep what can be said about it.
        code = f"HTTP_{status}"
        message = response.reason_phrase or f"HTTP {status}"
        details = {}
    specific = _BY_CODE.get(code)
    cls = specific[1] if specific is not None and specific[0] == status else error_class(status)
    return cls(message, code=code, status=status, details=details, request_id=request_id, headers=response.headers)


def redirect_error(response: httpx.Response) -> TaterError:
    """A 3xx answer: the client follows no redirect (the key would be sent along), so the
    caller learns where the server points instead (e.g. ``http://`` → ``https://``)."""
    location = response.headers.get("Location") or "nowhere"
    return answer_refused(
        response, f"The server redirects to {location}: set TATER_URL (base_url) to the address it names", "REDIRECT"
    )


def answer_refused(response: httpx.Response, message: str, code: str) -> TaterError:
    """An answer the client will not use (a redirect, an oversized body), with what the
    response says of itself: its status, request id and headers."""
    return TaterError(
        message,
        code=code,
        status=response.status_code,
        request_id=response.headers.get("X-Request-ID"),
        headers=response.headers,
    )
