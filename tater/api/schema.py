"""OpenAPI generation (drf-spectacular). Its documented error responses come from the error
catalog (``tater.api.catalog``), as the API reference page does. ``TaterAutoSchema`` (the
``DEFAULT_SCHEMA_CLASS``) reads each ``TaterAPIView``'s declarations (``required_scopes``,
``allowed_key_types``, ``org_required``, ``unbound_keys``) so the documentation cannot
drift from what the permission class enforces.
"""

from __future__ import annotations

from collections.abc import Callable
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

from tater.api.catalog import STATUS_DESCRIPTIONS, catalog_for, example_body
from tater.api.params import ORG_PARAM, TENANT_PARAM


class ErrorOutput(serializers.Serializer):
    """Every API error (SPEC §3)."""

    error = serializers.CharField(help_text="Machine-readable code, e.g. UNAUTHORIZED, VALIDATION_ERROR")
    message = serializers.CharField(help_text="Human-readable description naming the failing field or cause")
    details = serializers.DictField(required=False, help_text="Structured extra data (fields, required_permissions, …)")
    request_id = serializers.CharField(help_text="Also sent as the X-Request-ID header")


def error_response(status: int, *, sign_in: bool = False) -> OpenApiResponse:
    """The documented response for one error status, with the catalog's examples (``sign_in``:
    those of a sign-in endpoint too, ``tater.api.catalog``)."""
    examples = [
        OpenApiExample(
            f"{entry.code}: {entry.message}"[:80],
            value=example_body(entry),
            response_only=True,
            status_codes=[str(status)],
        )
        for entry in catalog_for(status, sign_in=sign_in)
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
            statuses = [429, 500, 503]
        else:
            statuses = [401, 403, 404, 429, 500, 503]
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
