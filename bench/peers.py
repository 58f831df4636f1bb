"""The two Django peers Tater's key check is compared with, each answering a body of the
same shape as ``GET /api/v1/auth/validate`` so rendering costs the same."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.permissions import HasAPIKey


def _body(kind: str, ident: Any) -> dict[str, Any]:
    return {
        "valid": True,
        "id": str(ident),
        "type": kind,
        "prefix": "",
        "name": "bench",
        "organization_id": None,
        "tenant_id": None,
        "binding": "none",
        "scopes": ["*"],
        "permissions": [],
        "expires_at": None,
    }


class DrfTokenView(APIView):
    """DRF's built-in TokenAuthentication: one query (token + user) per request."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(_body("drf-token", request.user.pk))


class ApiKeyLibView(APIView):
    """djangorestframework-api-key's HasAPIKey: a query by prefix plus SHA-512 per request."""

    authentication_classes: list[type] = []
    permission_classes = [HasAPIKey]

    def get(self, request: Request) -> Response:
        return Response(_body("api-key-lib", "ok"))
