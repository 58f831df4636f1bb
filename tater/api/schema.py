"""OpenAPI generation (drf-spectacular) and the error catalog, from one source.

``ERROR_CATALOG`` is SPEC §3 as data: the schema's documented error responses and the
API reference page (``/docs/api/``) are both generated from it. ``TaterAutoSchema`` (the
``DEFAULT_SCHEMA_CLASS``) reads each ``TaterAPIView``'s declarations (``required_scopes``,
``allowed_key_types``, ``org_required``, ``unbound_keys``) so the documentation cannot
drift from what the permission class enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from tater.api.params import ORG_PARAM, TENANT_PARAM


@dataclass(frozen=True)
class CatalogEntry:
    status: int
    code: str
    message: str
    trigger: str
    remedy: str
    details: dict[str, Any] | None = None
    headers: tuple[str, ...] = ()


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
)

STATUS_DESCRIPTIONS = {
    400: "Bad request: invalid body or query (VALIDATION_ERROR), or no organization chosen (AMBIGUOUS_ORG)",
    401: "Not authenticated: missing, malformed, unknown, revoked, expired or inactive key",
    403: "Forbidden: scope, key type, IP allowlist or organization not reachable",
    404: "Not found (or outside your organization)",
    405: "Method not allowed",
    409: "Conflict with the current state",
    411: "Length required",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Rate limited, locked out or a usage-limited key used up (see Retry-After)",
    500: "Unexpected error (the body carries the request id)",
}


def catalog_for(status: int) -> list[CatalogEntry]:
    return [entry for entry in ERROR_CATALOG if entry.status == status]


def example_body(entry: CatalogEntry) -> dict[str, Any]:
    body: dict[str, Any] = {"error": entry.code, "message": entry.message}
    if entry.details:
        body["details"] = entry.details
    body["request_id"] = "3b0f0c2a9d9e4a59b1c9b0b1c2d3e4f5"
    return body


class ErrorOutput(serializers.Serializer):
    """Every API error (SPEC §3)."""

    error = serializers.CharField(help_text="Machine-readable code, e.g. UNAUTHORIZED, VALIDATION_ERROR")
    message = serializers.CharField(help_text="Human-readable description naming the failing field or cause")
    details = serializers.DictField(required=False, help_text="Structured extra data (fields, required_permissions, …)")
    request_id = serializers.CharField(help_text="Also sent as the X-Request-ID header")


def error_response(status: int) -> OpenApiResponse:
    """The documented response for one error status, with the catalog's examples."""
    examples = [
        OpenApiExample(
            f"{entry.code}: {entry.message}"[:80],
            value=example_body(entry),
            response_only=True,
            status_codes=[str(status)],
        )
        for entry in catalog_for(status)
    ]
    return OpenApiResponse(
        response=ErrorOutput, description=STATUS_DESCRIPTIONS.get(status, "Error"), examples=examples
    )


ORG_HINT_PARAMETERS = [
    OpenApiParameter(
        ORG_PARAM,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description="Organization to act in (`org-<uuid>`). Needed by unbound keys and sessions in multi-org "
        "tenants; an org-scoped key accepts only its own org (else 403 WORKSPACE_ACCESS_DENIED).",
    ),
    OpenApiParameter(
        TENANT_PARAM,
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        required=False,
        description="Tenant id; must be the caller's tenant (else 403 WORKSPACE_ACCESS_DENIED).",
    ),
    OpenApiParameter(
        "X-Workspace-ID",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=False,
        description="Header alternative to organizationId.",
    ),
]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": (
                "`X-API-Key: tater_<32 hex>` (X-Agent-API-Key is an alias). `Authorization: Bearer <key>` "
                "only where the deployment allows it (TATER_ALLOW_BEARER_KEYS)."
            ),
        }


class SessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "tater.api.authentication.SessionAuthentication"
    name = "SessionCookie"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "A signed-in browser session; unsafe methods also need the X-CSRFToken header.",
        }


def _declarations(view: Any, method: str) -> tuple[str | None, list[str]]:
    from tater.api.permissions import admitted_key_types, required_scope

    return required_scope(view, method), sorted(admitted_key_types(view, method))


class TaterAutoSchema(AutoSchema):
    """Adds to every operation what the view declares and what can go wrong."""

    def _is_tater_view(self) -> bool:
        from tater.api.views import TaterAPIView

        return isinstance(self.view, TaterAPIView)

    def _requires_auth(self) -> bool:
        return not any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def get_description(self) -> str:  # type: ignore[override]
        description = super().get_description() or ""
        if not self._is_tater_view():
            return description
        scope, key_types = _declarations(self.view, self.method)
        lines = [
            f"**Required scope:** `{scope}`" if scope else "**Required scope:** none (any valid key or session)",
            f"**Key types admitted:** {', '.join(key_types)}",
        ]
        if getattr(self.view, "org_required", True):
            mode = getattr(self.view, "unbound_keys", "read")
            unbound = mode == "all" or (mode == "read" and self.method in ("GET", "HEAD", "OPTIONS"))
            lines.append(
                "**Unbound keys:** "
                + ("accepted with `organizationId`" if unbound else "refused (401); use an org-scoped key")
            )
        return (description + "\n\n" + "  \n".join(lines)).strip()

    def get_extensions(self) -> dict[str, Any]:
        extensions = dict(super().get_extensions())
        if self._is_tater_view():
            scope, key_types = _declarations(self.view, self.method)
            extensions["x-required-scopes"] = [scope] if scope else []
            extensions["x-key-types"] = key_types
        return extensions

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._is_tater_view() and not getattr(self.view, "org_in_path", False):
            parameters.extend(ORG_HINT_PARAMETERS)
        return parameters

    def get_operation_id(self) -> str:
        # APIViews are not viewsets: a *ListView's GET lists (the convention of this code base).
        operation_id = super().get_operation_id()
        if (
            self.method == "GET"
            and type(self.view).__name__.endswith("ListView")
            and operation_id.endswith("_retrieve")
        ):
            operation_id = operation_id[: -len("_retrieve")] + "_list"
        if (self.path, self.method) in SLASH_ALIASES:
            operation_id += "_slash"
        return operation_id

    def _error_statuses(self) -> list[int]:
        if not self._requires_auth():
            statuses = [429, 500]
        else:
            statuses = [401, 403, 404, 429, 500]
        has_body = self.method in ("POST", "PUT", "PATCH")
        has_query = bool(self._get_parameters()) if hasattr(self, "path") else False
        if has_body or has_query or getattr(self.view, "org_required", True):
            statuses.append(400)
        if has_body:
            statuses.append(413)  # SPEC §3: on every endpoint, by the body's Content-Length
            # A body read by DRF's parsers: another media type is a 415. A view reading its raw
            # bytes whatever their type (a signed webhook) declares ``reads_raw_body``.
            if self.get_request_serializer() is not None and not getattr(self.view, "reads_raw_body", False):
                statuses.append(415)
        return sorted(statuses)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_response(status), str(status), direction=direction
                )
        return dict(sorted(responses.items()))


# --- Documentation of views whose modules carry no schema annotations ----------------------
# Each extension documents one view without changing it; if the view's module later
# annotates itself, delete the extension. The core's are declared here; an app declares its
# own in its ``api/schema.py`` with ``documentation_hook`` (listed in PREPROCESSING_HOOKS).


def documented(target: str, **methods: Any) -> type[OpenApiViewExtension]:
    """An extension wrapping ``target`` with ``extend_schema`` per HTTP method."""

    class Documented(OpenApiViewExtension):
        target_class = target

        def view_replacement(self) -> type:
            # OpenApiViewExtension._load_class has imported the dotted path by now.
            view = cast(type, self.target_class)
            return extend_schema_view(**{m: extend_schema(**kw) for m, kw in methods.items()})(view)

    Documented.__name__ = Documented.__qualname__ = f"Documented{target.rsplit('.', 1)[-1]}"
    return Documented


def documentation_hook(register: Callable[[], None]) -> Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """A SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"] entry that runs ``register`` (which
    declares ``documented`` extensions) once, on the first schema generation, before any
    view is inspected (the serializers it names may import models); endpoints pass through."""
    done: list[bool] = []

    def hook(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not done:
            done.append(True)
            register()
        return endpoints

    return hook


class _HealthOutput(serializers.Serializer):
    status = serializers.CharField(help_text='"ok"')


class _LogoutInput(serializers.Serializer):
    pass


def _register_core() -> None:
    documented("tater.api.health.HealthView", get={"responses": {200: _HealthOutput}, "auth": []})


_register_core_once = documentation_hook(_register_core)


def preprocess_endpoints(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"]: registers the core's documentation
    extensions before any view is inspected, and notes paths routed with and without a trailing slash
    to one view (``me`` and ``me/``) so the second gets its own operation id."""
    endpoints = _register_core_once(endpoints)
    seen = {(path, method, getattr(callback, "cls", None)) for path, _, method, callback in endpoints}
    SLASH_ALIASES.clear()
    SLASH_ALIASES.update(
        (path, method)
        for path, _, method, callback in endpoints
        if path.endswith("/") and (path[:-1], method, getattr(callback, "cls", None)) in seen
    )
    return endpoints


SLASH_ALIASES: set[tuple[str, str]] = set()
