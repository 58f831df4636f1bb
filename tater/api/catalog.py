"""SPEC §3's error catalog as data: every code the API answers, with its status, a message it
sends, what causes it and what to do. The OpenAPI schema's documented error responses
(``tater.api.schema.error_response``) and the API reference page (``/docs/api/``) are both
generated from it, so neither can leave out a code the other lists.

Entries marked ``sign_in`` are answered only by the sign-in endpoints (``auth/login``,
``auth/verify-2fa``, ``auth/token`` and the seed systems' equivalents): the schema shows them
there and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tater.api.params import ORG_PARAM


@dataclass(frozen=True)
class CatalogEntry:
    status: int
    code: str
    message: str
    trigger: str
    remedy: str
    details: dict[str, Any] | None = None
    headers: tuple[str, ...] = ()
    sign_in: bool = False  # answered only by the sign-in endpoints


ERROR_CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        401,
        "UNAUTHORIZED",
        "Missing API key",
        "No X-API-Key header and no signed-in session",
        "Add the X-API-Key header",
    ),
    CatalogEntry(
        401,
        "UNAUTHORIZED",
        "Invalid authorization header format",
        "An Authorization header such as `Authorization: Bearer tater_…`",
        "Move the key into the X-API-Key header; do not use Authorization",
    ),
    CatalogEntry(
        401,
        "UNAUTHORIZED",
        "Invalid token",
        "The key is malformed or does not exist",
        "Check the value, or generate a new key under Manage → Connections → API Keys",
    ),
    CatalogEntry(
        401,
        "KEY_REVOKED",
        "API key has been revoked",
        "The key was revoked (or rotated out past its grace period)",
        "Generate a new key",
    ),
    CatalogEntry(
        401,
        "KEY_EXPIRED",
        "API key has expired",
        "The key's expiry date has passed",
        "Generate a new key",
        details={"expired_at": "2026-01-01T00:00:00Z"},
    ),
    CatalogEntry(
        401,
        "KEY_INACTIVE",
        "API key is deactivated",
        "An admin deactivated the key",
        "Reactivate it, or use another key",
    ),
    CatalogEntry(
        401,
        "UNAUTHORIZED",
        "Unbound API key may not scope to a specific org",
        "An unbound (tenant-wide) key on a write endpoint",
        "Generate the key with an org selected, or pass ?organizationId= on read endpoints that accept it",
    ),
    CatalogEntry(
        401,
        "INVALID_CREDENTIALS",
        "Invalid email or password",
        "Sign-in or credential exchange with an unknown email or a wrong password (counted by the lockout)",
        "Check the email and password; after repeated failures wait for the lockout to end",
        sign_in=True,
    ),
    CatalogEntry(
        401,
        "INVALID_OTP",
        "Invalid or already used verification code",
        "A missing, wrong or already used 2FA code or recovery code, or a passkey answer that fails",
        "Send a current code from the authenticator (each is accepted once)",
        sign_in=True,
    ),
    CatalogEntry(
        400,
        "AMBIGUOUS_ORG",
        "Several organizations are reachable: pass the organizationId query parameter (or the X-Workspace-ID header)",
        "Unbound key (or session) and a multi-org tenant, no organizationId hint",
        "Bind the key to an org, or supply ?organizationId=",
        details={"parameter": ORG_PARAM},
    ),
    CatalogEntry(
        400,
        "VALIDATION_ERROR",
        "started_at: This field is required.",
        "Authentication succeeded; the body or query is malformed",
        "Read the message and details.fields: they name the failing field",
        details={"fields": {"started_at": ["This field is required."]}},
    ),
    CatalogEntry(
        403,
        "WORKSPACE_ACCESS_DENIED",
        "No access to organization 'org-9c305e0e-cf02-4028-8ef1-edead8fdaee5'",
        "organizationId, X-Workspace-ID or tenantId names an org or tenant the key or user cannot reach",
        "Use the key's own org (org-scoped keys ignore the hint only when it matches)",
    ),
    CatalogEntry(
        403,
        "IP_NOT_ALLOWED",
        "Client address is not in this API key's allowlist",
        "The caller's IP is outside the key's allowlist",
        "Call from an allowed address or widen the allowlist",
    ),
    CatalogEntry(
        403,
        "PERMISSION_DENIED",
        "Missing permission scans:write",
        "The key's scopes (or the owner's role) do not include the endpoint's scope",
        "Use a key with the scope; details list required and current permissions",
        details={"required_permissions": ["scans:write"], "current_permissions": ["scans:read"]},
    ),
    CatalogEntry(
        403,
        "KEY_TYPE_NOT_ALLOWED",
        "API key type 'agent' is not allowed on this endpoint",
        "The endpoint does not admit the key's type (agent keys may only upload scans)",
        "Use a standard key",
    ),
    CatalogEntry(
        403,
        "HTTPS_REQUIRED",
        "This API is served over HTTPS only: send the request to its https:// address",
        "A request over plain HTTP in production (no redirect: the key already travelled in clear)",
        "Use the https:// address, and rotate a key that was sent over plain HTTP",
    ),
    CatalogEntry(
        403,
        "SSO_REQUIRED",
        "Your organization requires single sign-on for this account",
        "A password sign-in or credential exchange for an account whose tenant requires SSO",
        "Sign in through the tenant's identity provider (the UI's Continue with SSO)",
        sign_in=True,
    ),
    CatalogEntry(
        403,
        "MFA_REQUIRED",
        "Your tenant requires two-factor authentication: enrol an authenticator first",
        "The tenant requires 2FA and the account has no second factor (or the session has not passed it)",
        "Enrol an authenticator at /accounts/2fa/, then sign in again",
    ),
    CatalogEntry(
        404,
        "NOT_FOUND",
        "Not found",
        "No such object in your organization (other tenants' ids are never found)",
        "Check the id and the organization",
    ),
    CatalogEntry(
        405,
        "METHOD_NOT_ALLOWED",
        'Method "PUT" not allowed.',
        "The path does not support the HTTP method",
        "Use a documented method",
    ),
    CatalogEntry(
        409,
        "CONFLICT",
        "The last owner of a tenant cannot be removed or demoted",
        "The change conflicts with the current state",
        "Promote another owner first",
    ),
    CatalogEntry(
        411,
        "LENGTH_REQUIRED",
        "Send the body with a Content-Length header",
        "A chunked upload the server cannot bound",
        "Send Content-Length (curl, requests and PowerShell do)",
    ),
    CatalogEntry(
        413,
        "PAYLOAD_TOO_LARGE",
        "Request body is larger than 5242880 bytes",
        "The body exceeds TATER_MAX_UPLOAD_BYTES (5 MB by default)",
        "Split the upload",
        details={"max_bytes": 5242880},
    ),
    CatalogEntry(
        406,
        "NOT_ACCEPTABLE",
        "Could not satisfy the request Accept header.",
        "The Accept header names only types the API does not send (it answers application/json)",
        "Send Accept: application/json (or */*), or no Accept header",
    ),
    CatalogEntry(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported media type 'text/plain': send application/json",
        "The body is not JSON",
        "Send Content-Type: application/json",
    ),
    CatalogEntry(
        429,
        "RATE_LIMITED",
        "Rate limit exceeded, retry in 12 seconds",
        "Too many requests for the key (or user) in the window",
        "Wait for Retry-After seconds",
        headers=("Retry-After",),
    ),
    CatalogEntry(
        429,
        "USAGE_EXHAUSTED",
        "This API key has used all of its allowed requests",
        "A usage-limited key used up its uses for the period (SPEC §14)",
        "Wait for Retry-After (the refill: 00:00 UTC, or the 1st); none: ask for a new limit",
        details={"limit": 1000, "refill": "monthly", "resets_at": "2027-01-01T00:00:00Z"},
        headers=("Retry-After",),
    ),
    CatalogEntry(
        429,
        "LOCKED_OUT",
        "Too many failed attempts, retry later",
        "Too many failed authentication attempts from your address",
        "Wait for Retry-After seconds",
        headers=("Retry-After",),
    ),
    CatalogEntry(
        500,
        "INTERNAL_ERROR",
        "Internal server error",
        "Anything unexpected (no traceback is returned)",
        "Retry; report the request id",
    ),
    CatalogEntry(
        503,
        "SERVICE_UNAVAILABLE",
        "Service temporarily unavailable, retry shortly",
        "The database or Redis does not answer (an outage; GET /readyz names which)",
        "Retry after Retry-After seconds; nothing was changed",
        headers=("Retry-After",),
    ),
)

STATUS_DESCRIPTIONS = {
    400: "Bad request: invalid body or query (VALIDATION_ERROR), or no organization chosen (AMBIGUOUS_ORG)",
    401: "Not authenticated: missing, malformed, unknown, revoked, expired or inactive key",
    403: "Forbidden: scope, key type, IP allowlist or organization not reachable",
    404: "Not found (or outside your organization)",
    405: "Method not allowed",
    406: "Not acceptable: the Accept header names no type the API sends",
    409: "Conflict with the current state",
    411: "Length required",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Rate limited, locked out or a usage-limited key used up (see Retry-After)",
    500: "Unexpected error (the body carries the request id)",
    503: "A service the API needs does not answer (database or Redis): nothing was changed, retry",
}


def catalog_for(status: int, *, sign_in: bool = False) -> list[CatalogEntry]:
    """The entries of ``status``: on a sign-in endpoint (``sign_in``) its own codes and those
    of every endpoint, elsewhere only the latter."""
    return [entry for entry in ERROR_CATALOG if entry.status == status and (sign_in or not entry.sign_in)]


def example_body(entry: CatalogEntry) -> dict[str, Any]:
    body: dict[str, Any] = {"error": entry.code, "message": entry.message}
    if entry.details:
        body["details"] = entry.details
    body["request_id"] = "3b0f0c2a9d9e4a59b1c9b0b1c2d3e4f5"
    return body
