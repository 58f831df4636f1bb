from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit import selectors
from audit.api.serializers import AuditPageOutput
from audit.export import csv_response
from tater.api.views import AcceptNegotiation, TaterAPIView
from tater.exceptions import InvalidInput

EXPORT_FORMATS = ("json", "csv")


class FormatParamNegotiation(AcceptNegotiation):
    """Here ``?format=`` picks the export (json or csv), not a DRF renderer: DRF would
    otherwise answer 404 for a format no renderer claims. The CSV export is chosen by that
    parameter alone (docs/audit.md); the JSON page honours ``Accept`` as every endpoint does
    (406 NOT_ACCEPTABLE, SPEC §3). Errors are always JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        if (request.query_params.get("format") or "").strip().lower() == "csv":
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


def _param(name: str, description: str, **kwargs: Any) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description, **kwargs)


class AuditLogView(TaterAPIView):
    """The audit log of the resolved organization, newest first."""

    required_scopes = {"GET": "audit:read"}
    content_negotiation_class = FormatParamNegotiation
    query_fields = {
        "GET": frozenset({"channel", "action", "actor", "key", "target", "since", "until", "cursor", "limit"})
    }

    @extend_schema(
        parameters=[
            _param("channel", "ui, api, admin, system or scim", enum=["ui", "api", "admin", "system", "scim"]),
            _param("action", "An action name (api_key.created) or a group (api_key.*)"),
            _param("actor", "The acting user's email address or user id (usr-...)"),
            _param("key", "Entries made with this key: the id of the API key that acted (key-...), not the key itself"),
            _param(
                "target", "Entries about this object, by its id: a key (key-...), a person (usr-...), an org (org-...)"
            ),
            _param("since", "ISO 8601 date or date-time; entries at or after it"),
            _param("until", "ISO 8601 date or date-time; entries up to it (a date: the whole day)"),
            _param("cursor", "next_cursor of the previous page"),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description=f"1 to {selectors.MAX_LIMIT}, default {selectors.DEFAULT_LIMIT}",
            ),
            _param(
                "format",
                "json (default) or csv: a streamed CSV export of every matching entry",
                enum=list(EXPORT_FORMATS),
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(AuditPageOutput, description="A page of entries"),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="With format=csv: a streamed CSV export"),
        },
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        params = request.query_params
        export = (params.get("format") or "json").strip().lower()
        if export not in EXPORT_FORMATS:
            raise InvalidInput("format must be json or csv", field="format")
        filters = selectors.parse_filters(params)
        scope = selectors.scope_for(self.access(request))
        if export == "csv":
            # The export has no page: a paging parameter would be silently ignored (SPEC §3).
            for name in ("limit", "cursor"):
                if params.get(name):
                    raise InvalidInput(
                        f"{name} pages the JSON list; the CSV export holds every matching entry "
                        "(narrow it with since and until)",
                        field=name,
                    )
            return csv_response(selectors.audit_export(scope=scope, filters=filters), scope)
        limit = selectors.parse_limit(params.get("limit"))
        rows, next_cursor = selectors.audit_page(scope=scope, filters=filters, cursor=params.get("cursor"), limit=limit)
        return Response(
            {"entries": [selectors.entry_data(row, scope) for row in rows], "next_cursor": next_cursor, "limit": limit}
        )
