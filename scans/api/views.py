from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys.models import ApiKey
from apikeys.principal import KeyPrincipal
from orgs.access import Access
from scans import app_settings, selectors, services
from scans.api import serializers as s
from scans.models import Scan
from tater.api import parsers
from tater.api.errors import ApiError, NotFound, PayloadTooLarge, ValidationFailed
from tater.api.permissions import BUSINESS_READ_TYPES
from tater.api.schema import error_response
from tater.api.views import TaterAPIView

READ_CHUNK = 64 * 1024

PAYLOAD_EXAMPLE = {
    "scanner": "nmap",
    "target": "10.20.0.0/24",
    "started_at": "2026-01-15T09:30:00Z",
    "finished_at": "2026-01-15T09:42:10Z",
    "findings": [
        {
            "title": "TLS 1.0 enabled",
            "severity": "medium",
            "host": "10.20.0.14",
            "port": 443,
            "description": "The service accepts TLS 1.0 handshakes.",
            "remediation": "Disable TLS 1.0 and 1.1.",
        },
        {
            "title": "OpenSSH user enumeration",
            "severity": "high",
            "host": "10.20.0.21",
            "port": 22,
            "cve": "CVE-2018-15473",
            "references": ["https://nvd.nist.gov/vuln/detail/CVE-2018-15473"],
        },
        {"title": "Host up", "severity": "info", "host": "10.20.0.1", "data": {"latency_ms": 0.4}},
    ],
    "metadata": {"agent": "rmm-collector/2.3", "site": "HQ"},
}


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"Request body is larger than {limit} bytes", details={"max_bytes": limit})


def _read_bounded(stream: Any, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes: enough to know the body is too large, never more."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise _too_large(limit)
    return b"".join(chunks)


def read_json_body(request: Request) -> Any:
    """The upload body as JSON, refusing oversized bodies before reading them.

    A declared ``Content-Length`` over the limit is refused unread. A chunked body (no
    length) is read from the server's input only when the server marks it terminated
    (``wsgi.input_terminated``, e.g. gunicorn), and then at most limit + 1 bytes;
    otherwise 411 LENGTH_REQUIRED.
    """
    limit = app_settings.max_upload_bytes()
    meta = request.META
    content_type = (meta.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(
            f"Unsupported media type {content_type!r}: send application/json",
            code="UNSUPPORTED_MEDIA_TYPE",
            status_code=415,
        )
    raw_length = (meta.get("CONTENT_LENGTH") or "").strip()
    try:
        length = int(raw_length) if raw_length else None
    except ValueError:
        raise ValidationFailed(
            "Invalid Content-Length header", details={"fields": {"Content-Length": ["Not a number"]}}
        ) from None
    chunked = "chunked" in (meta.get("HTTP_TRANSFER_ENCODING") or "").lower()
    if length is not None and length > limit:
        raise _too_large(limit)
    if chunked and not length:
        if not meta.get("wsgi.input_terminated"):
            raise ApiError("Send the body with a Content-Length header", code="LENGTH_REQUIRED", status_code=411)
        body = _read_bounded(meta["wsgi.input"], limit)
    else:
        # Django's request stream stops at Content-Length; the bound is a second guard.
        body = _read_bounded(request._request, limit)
    if not body.strip():
        raise ValidationFailed(
            "body: A JSON object is required", details={"fields": {"body": ["A JSON object is required"]}}
        )
    try:
        data = parsers.loads(body)  # bounded nesting, no NUL or lone surrogates
    except ParseError as exc:
        raise ValidationFailed(str(exc.detail), details={"fields": {"body": [str(exc.detail)]}}) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "body: A JSON object is required", details={"fields": {"body": ["A JSON object is required"]}}
        )
    return data


def _context(access: Access, scans: list[Scan]) -> dict[str, Any]:
    """What the scan serializers need: the caller's tenant and org ids, the uploading keys
    the caller may see (only theirs get a prefix in ``uploaded_by``), and whether the caller
    may read the members (the uploader's address) and the keys (the uploading key's id):
    never public keys, SPEC §2a."""
    return {
        "ids": {"tenant_id": access.tenant_public_id, "organization_id": access.org.public_id if access.org else ""},
        "visible_keys": selectors.visible_uploading_keys(access, scans),
        "members_visible": "members:read" in access.scopes,
        "keys_visible": "keys:read" in access.scopes,
        "caller_key_id": access.key.public_id if access.key is not None else None,
    }


UPLOAD_SCHEMA: dict[str, Any] = {
    "request": s.ScanUploadInput,
    "responses": {
        201: s.ScanDetailOutput,
        411: error_response(411),
        413: error_response(413),
        415: error_response(415),
    },
    "examples": [OpenApiExample("scan-payload.json", value=PAYLOAD_EXAMPLE, request_only=True)],
}


def _presented_prefix(access: Access) -> str:
    """The display prefix of the secret this request presented: the key's current one, or
    during a rotation's grace period the rotated-out one (looked up only then)."""
    key = access.key
    if not isinstance(key, KeyPrincipal):
        return ""
    if not key.matched_previous:
        return key.display_prefix
    previous = ApiKey.objects.filter(pk=key.pk).values_list("previous_display_prefix", flat=True).first()
    return previous or ""


class ScanUploadView(TaterAPIView):
    """Upload one scan result into the caller's organization.

    Body: the scan as JSON (see the example); at most `TATER_MAX_UPLOAD_BYTES` (5 MB by
    default), larger bodies get 413 PAYLOAD_TOO_LARGE. Agent keys (`ak_…`) are admitted
    here, and only here. Write endpoint: unbound keys get 401 (bind the key to an org).
    The upload records who sent it: the user and, with a key, the key id.
    """

    required_scopes = {"POST": "scans:write"}
    allowed_key_types = {"POST": {"standard", "agent"}}
    # Reads no query parameter but the org hints (tenantId, organizationId): any other is a
    # 400 naming it, so a misspelt hint never stores the scan in the caller's current org.
    query_fields = {"POST": frozenset()}
    parser_classes = [JSONParser]  # documents the media type; read_json_body reads the body
    reads_unsized_body = True  # a chunked upload too, bounded (read_json_body); elsewhere 411

    @extend_schema(operation_id="scans_upload", **UPLOAD_SCHEMA)
    def post(self, request: Request) -> Response:
        data = read_json_body(request)
        body = s.ScanUploadInput(data=data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        access = self.access(request)
        scan = services.scan_upload(
            organization=access.organization(),
            scanner=values["scanner"],
            target=values["target"],
            started_at=values["started_at"],
            finished_at=values.get("finished_at"),
            findings=[dict(f) for f in values["findings"]],
            metadata=values.get("metadata"),
            uploaded_by_user=request.user,
            uploaded_by_key_id=access.key.public_id if access.key else "",
            key_prefix=_presented_prefix(access),
        )
        return Response(s.ScanDetailOutput(scan, context=_context(access, [scan])).data, status=status.HTTP_201_CREATED)


class ScanUploadAliasView(ScanUploadView):
    """Alias of `POST /api/v1/scans/upload`: the path TATER's published snippets post to.
    Identical behaviour (same view, scopes, key types, limits and responses)."""

    @extend_schema(operation_id="scans_upload_alias", **UPLOAD_SCHEMA)
    def post(self, request: Request) -> Response:
        return super().post(request)


class ScanListView(TaterAPIView):
    """The organization's scans, newest first (no findings; fetch one scan for those)."""

    required_scopes = {"GET": "scans:read"}
    allowed_key_types = BUSINESS_READ_TYPES
    query_fields = {"GET": frozenset(s.ScanListQuery().fields)}

    @extend_schema(parameters=[s.ScanListQuery], responses={200: s.ScanListOutput})
    def get(self, request: Request) -> Response:
        query = s.ScanListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        access = self.access(request)
        scans = selectors.scan_list(org=access.organization(), filters=params)
        total = scans.count()
        page = scans[params["offset"] : params["offset"] + params["limit"]]
        return Response(
            {
                "scans": s.ScanOutput(page, many=True, context=_context(access, list(page))).data,
                "total": total,
                "limit": params["limit"],
                "offset": params["offset"],
            }
        )


class ScanDetailView(TaterAPIView):
    """One scan of the organization, with its findings."""

    required_scopes = {"GET": "scans:read"}
    allowed_key_types = BUSINESS_READ_TYPES
    query_fields = {"GET": frozenset()}

    @extend_schema(responses={200: s.ScanDetailOutput})
    def get(self, request: Request, scan_id: str) -> Response:
        access = self.access(request)
        scan = selectors.scan_get(org=access.organization(), public_id=scan_id)
        if scan is None:
            raise NotFound()
        return Response(s.ScanDetailOutput(scan, context=_context(access, [scan])).data)
