"""Tatry's Authentication API (SPEC §5a; docs/migrating-from-tatry.md).

- ``GET|POST /v1/auth/validate``: the core's validate answer plus ``rate_limits``. The
  published SDK (``tatry``) POSTs here; the document's request example names
  ``/v1/validate``, served too.
- ``GET /v1/auth/keys?status&limit&offset``: the core's key list (same reach, filters and
  paging as ``GET /api/v1/keys/``).

The key comes as ``Authorization: Bearer <key>`` (or ``X-API-Key``). Answers are
``{"status": "success", "data": ...}``; errors ``{"status": "error", "error": {"code",
"message", "details"}}`` with Tatry's code where it has one, else the catalog code in lower
case; ``details.tater_error`` always names the catalog code.
"""

from __future__ import annotations

import math
from typing import Any, cast

from django.conf import settings
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.api import views as key_views
from apikeys.limits import parse_rate_limit
from apikeys.principal import KeyPrincipal
from surfaces.authentication import BearerKeyAuthentication
from surfaces.envelope import CatalogError, Envelope, SurfaceView
from tater.exceptions import InvalidInput

ALL_KEY_TYPES = frozenset({"standard", "agent", "public"})

# Catalog code → Tatry's code (its document lists these three).
TATRY_CODES = {
    "UNAUTHORIZED": "auth_invalid_key",
    "KEY_REVOKED": "auth_invalid_key",
    "KEY_INACTIVE": "auth_invalid_key",
    "KEY_EXPIRED": "auth_expired_key",
    "PERMISSION_DENIED": "auth_permission_denied",
    "KEY_TYPE_NOT_ALLOWED": "auth_permission_denied",
    "IP_NOT_ALLOWED": "auth_permission_denied",
    "WORKSPACE_ACCESS_DENIED": "auth_permission_denied",
}
# details.key_status of auth_invalid_key.
KEY_STATUS = {"KEY_REVOKED": "revoked", "KEY_INACTIVE": "inactive"}
UNAUTHORIZED_KEY_STATUS = {"Missing API key": "missing", "Unbound API key may not scope to a specific org": "unbound"}


class TatryEnvelope(Envelope):
    www_authenticate = 'Bearer realm="api"'

    def success(self, data: Any, status: int) -> tuple[Any, int]:
        return {"status": "success", "data": data}, status

    def error(self, error: CatalogError) -> Any:
        code = TATRY_CODES.get(error.code, error.code.lower())
        details = dict(error.details)
        if code == "auth_invalid_key":
            details["key_status"] = KEY_STATUS.get(error.code) or UNAUTHORIZED_KEY_STATUS.get(error.message, "invalid")
        elif code == "auth_permission_denied":
            # Tatry's clients read both lists from every auth_permission_denied. A refusal
            # that is not about a missing permission (key type, org, allowlist) names none:
            # empty lists, so a caller outside the allowlist learns nothing the key may do.
            details.setdefault("required_permissions", [])
            details.setdefault("current_permissions", [])
        details["tater_error"] = error.code
        body = {"code": code, "message": error.message, "details": details}
        if error.request_id:
            body["request_id"] = error.request_id
        return {"status": "error", "error": body}


def rate_limits(principal: KeyPrincipal) -> dict[str, int]:
    """The most requests this key is admitted per minute and per hour: its tenant plan's
    limits (``TATER_PLAN_RATE_LIMITS``), tightened by the key's own override."""
    table = settings.TATER_PLAN_RATE_LIMITS
    per_minute, per_hour = table.get(principal.tenant_plan) or table["free"]
    if principal.rate_limit:
        try:
            count, seconds = parse_rate_limit(principal.rate_limit)
        except InvalidInput:
            pass  # the limiter ignores an old bad value too
        else:
            per_minute = min(per_minute, count * math.ceil(60 / seconds))
            per_hour = min(per_hour, count * math.ceil(3600 / seconds))
    return {"requests_per_minute": per_minute, "requests_per_hour": per_hour}


class ValidateView(SurfaceView, key_views.ValidateView):
    envelope = TatryEnvelope()
    authentication_classes = [BearerKeyAuthentication]
    http_method_names = ["get", "post", "head", "options"]
    required_scopes = {"GET": None, "POST": None}
    allowed_key_types = {"GET": ALL_KEY_TYPES, "POST": ALL_KEY_TYPES}
    query_fields = {"GET": frozenset(), "POST": frozenset()}  # the org hints and format only
    # Tatry's answer always names an organization (its SDK's model requires the string): an
    # unbound key's is resolved as SPEC §4 says, the hint's or a single-org tenant's only
    # org; a multi-org tenant without a hint gets 400 AMBIGUOUS_ORG, not a null to trip on.
    org_required = True
    unbound_keys = "all"  # the SDK's POST reads like a GET

    def get(self, request: Request) -> Response:
        data = dict(super().get(request).data)
        data["rate_limits"] = rate_limits(cast(KeyPrincipal, request.auth))  # BearerKeyAuthentication's
        if data["organization_id"] is None:
            data["organization_id"] = self.access(request).organization().public_id
        return Response(data)

    def post(self, request: Request) -> Response:
        """What the Tatry SDK's ``validate_api_key()`` sends (no body). A body sent anyway is
        read, not skipped (SPEC §2a, §3): malformed, 400; of another type, 415; any field, 400
        naming it (validate takes none)."""
        body = request.data
        if isinstance(body, dict) and body:
            raise serializers.ValidationError({str(name): ["This field is not accepted here."] for name in body})
        if not isinstance(body, dict) and body not in (None, [], ""):
            raise serializers.ValidationError({"body": ["Validate takes no body: send none, or {}."]})
        return self.get(request)


class KeyListView(SurfaceView, key_views.KeyListView):
    envelope = TatryEnvelope()
    authentication_classes = [BearerKeyAuthentication]
    http_method_names = ["get", "head", "options"]


urlpatterns = [
    path("v1/auth/validate", ValidateView.as_view(), name="tatry-validate"),
    path("v1/validate", ValidateView.as_view(), name="tatry-validate-short"),
    path("v1/auth/keys", KeyListView.as_view(), name="tatry-keys"),
]
