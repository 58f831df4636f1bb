from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from scans import app_settings
from scans.models import Scan, Severity
from tater.api.fields import (
    BoundedDateTimeField,
    BoundedListField,
    RejectBlankQueryMixin,
    StrictCharField,
    WholeNumberField,
)
from tater.api.pagination import offset_field
from tater.secret_detectors import holds_secret

FINDING_FIELDS = ("title", "severity", "description", "host", "port", "cve", "remediation", "references", "data")
UPLOAD_FIELDS = ("scanner", "target", "started_at", "finished_at", "findings", "metadata")
# The metadata goes into the upload's audit entry, which every reader of the audit log
# loads: a few KB of context, not the bulk of a 5 MB body (the findings hold that).
METADATA_MAX_BYTES = 4096
# A bad upload names its first invalid findings (enough to fix the producer), not each of
# thousands: the answer and the work stay small whatever the body holds.
MAX_REPORTED_FINDINGS = 10


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not know, so a typo ("severty") is a 400 naming it, not data lost."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: [f"Unknown field; allowed: {', '.join(self.fields)}"]})
        return super().to_internal_value(data)


class SeverityField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Severity.choices, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        # "High" and "HIGH" are what scanners send; store the canonical lowercase.
        return super().to_internal_value(data.strip().lower() if isinstance(data, str) else data)


class FindingList(serializers.ListSerializer):
    """The findings: their number is checked before any is validated (at most
    ``TATER_SCAN_MAX_FINDINGS``), and validation stops at the ``MAX_REPORTED_FINDINGS``-th
    invalid one, so a body of bad findings costs one short answer (SPEC §3, §12)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            return super().to_internal_value(data)  # DRF's "Expected a list of items"
        limit = app_settings.max_findings()
        if len(data) > limit:
            raise serializers.ValidationError(f"At most {limit} findings per scan")
        validated: list[Any] = []
        errors: dict[str, Any] = {}
        for index, item in enumerate(data):
            try:
                validated.append(self.run_child_validation(item))
            except serializers.ValidationError as exc:
                errors[str(index)] = exc.detail
                if len(errors) == MAX_REPORTED_FINDINGS:
                    break
        if errors:
            raise serializers.ValidationError(errors)
        return validated


class FindingInput(StrictSerializer):
    title = StrictCharField(max_length=500)
    severity = SeverityField()
    description = StrictCharField(max_length=20_000, required=False, allow_blank=True)
    host = StrictCharField(max_length=255, required=False, allow_blank=True)
    port = WholeNumberField(min_value=0, max_value=65535, required=False, allow_null=True)
    cve = StrictCharField(max_length=64, required=False, allow_blank=True)
    remediation = StrictCharField(max_length=20_000, required=False, allow_blank=True)
    references = BoundedListField(child=StrictCharField(max_length=2000), required=False, max_length=50)
    # A field named "data" (the upload format's name) shadows Serializer.data for the stubs.
    data = serializers.DictField(required=False, help_text="Scanner-specific details, stored as given")  # type: ignore[assignment]

    class Meta:
        list_serializer_class = FindingList


def _no_key(value: str) -> str:
    if holds_secret(value):
        raise serializers.ValidationError(
            "Holds an API key or SCIM token: it is kept in the audit log, so never put one in it"
        )
    return value


class ScanUploadInput(StrictSerializer):
    """The upload body (``scan-payload.json``)."""

    scanner = StrictCharField(max_length=100, help_text='Tool that produced the scan, e.g. "nmap"')
    target = StrictCharField(max_length=500, help_text="What was scanned: host, range, URL or asset name")
    started_at = BoundedDateTimeField(help_text="ISO 8601 with offset, e.g. 2026-01-15T09:30:00Z")
    finished_at = BoundedDateTimeField(required=False, allow_null=True)
    findings = FindingInput(many=True, required=False, default=list)
    metadata = serializers.DictField(
        required=False,
        help_text=f"Free-form context kept in the audit entry (at most {METADATA_MAX_BYTES} bytes as JSON)",
    )

    # The scanner and target are kept in the upload's audit entry too (SPEC §2: never a key).
    def validate_scanner(self, value: str) -> str:
        return _no_key(value)

    def validate_target(self, value: str) -> str:
        return _no_key(value)

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        size = len(text.encode())
        if size > METADATA_MAX_BYTES:
            raise serializers.ValidationError(f"At most {METADATA_MAX_BYTES} bytes as JSON ({size} given)")
        # The metadata is kept in the upload's audit entry, which the org's admins read: a key
        # or SCIM token there would be a secret handed to them (SPEC §2, §2a). Never echoed back.
        if holds_secret(text):
            raise serializers.ValidationError(
                "Holds an API key or SCIM token: metadata is kept in the audit log, so never put one in it"
            )
        return value


class UploaderOutput(serializers.Serializer):
    user = serializers.EmailField(
        allow_null=True, help_text="The uploader's email; null unless the caller may read members"
    )
    key_id = serializers.CharField(
        allow_null=True,
        help_text="Public id of the API key, when uploaded with one; to callers that may read keys, and the key itself",
    )
    key_prefix = serializers.CharField(
        allow_null=True,
        help_text="Display prefix of the secret presented (the old one during a rotation's grace period); "
        "null unless the caller may see that key",
    )


class SeverityCountsOutput(serializers.Serializer):
    info = serializers.IntegerField()
    low = serializers.IntegerField()
    medium = serializers.IntegerField()
    high = serializers.IntegerField()
    critical = serializers.IntegerField()


class ScanOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    tenant_id = serializers.SerializerMethodField()
    organization_id = serializers.SerializerMethodField()
    finding_count = serializers.SerializerMethodField()
    severity_counts = SeverityCountsOutput()
    uploaded_by = serializers.SerializerMethodField()

    class Meta:
        model = Scan
        fields = [
            "id",
            "tenant_id",
            "organization_id",
            "scanner",
            "target",
            "started_at",
            "finished_at",
            "finding_count",
            "severity_counts",
            "uploaded_by",
            "created_at",
        ]

    def _ids(self) -> dict[str, str]:
        return self.context.get("ids", {})

    def _visible_keys(self) -> dict[str, Any]:
        return self.context.get("visible_keys", {})

    def get_tenant_id(self, obj: Scan) -> str:
        return self._ids().get("tenant_id") or obj.tenant.public_id

    def get_organization_id(self, obj: Scan) -> str:
        return self._ids().get("organization_id") or obj.organization.public_id

    def get_finding_count(self, obj: Scan) -> int:
        return sum(obj.severity_counts.values())

    def _key_id_visible(self, obj: Scan) -> bool:
        """The uploading key's id, to callers who may read keys, and to that key itself."""
        return bool(self.context.get("keys_visible")) or obj.uploaded_by_key_id == self.context.get("caller_key_id")

    @extend_schema_field(UploaderOutput)
    def get_uploaded_by(self, obj: Scan) -> dict[str, Any]:
        user = obj.uploaded_by_user
        return {
            "user": user.email if user and self.context.get("members_visible") else None,
            "key_id": (obj.uploaded_by_key_id or None) if self._key_id_visible(obj) else None,
            # The secret presented (during a rotation's grace, maybe the old one), to whom
            # may see the key (scans.selectors.visible_uploading_keys).
            "key_prefix": (obj.key_prefix or None) if obj.uploaded_by_key_id in self._visible_keys() else None,
        }


class FindingOutput(serializers.Serializer):
    title = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = serializers.CharField(required=False)
    host = serializers.CharField(required=False)
    port = serializers.IntegerField(required=False, allow_null=True)
    cve = serializers.CharField(required=False)
    remediation = serializers.CharField(required=False)
    references = serializers.ListField(child=serializers.CharField(), required=False)
    data = serializers.DictField(required=False)  # type: ignore[assignment]  # the API's field name


class ScanDetailOutput(ScanOutput):
    findings = FindingOutput(many=True)

    class Meta(ScanOutput.Meta):
        fields = [*ScanOutput.Meta.fields, "findings"]


class ScanListOutput(serializers.Serializer):
    scans = ScanOutput(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class SeverityListField(serializers.CharField):
    """``severity=high`` or ``severity=high,critical`` (a scan matching any of them)."""

    def to_internal_value(self, data: Any) -> list[str]:  # type: ignore[override]  # a string on the wire, a list here
        values = [v.strip().lower() for v in str(super().to_internal_value(data)).split(",") if v.strip()]
        bad = [v for v in values if v not in Severity.values]
        if bad or not values:
            raise serializers.ValidationError(f"Severity must be one or more of {', '.join(Severity.values)}")
        return values


class ScanListQuery(RejectBlankQueryMixin, serializers.Serializer):
    scanner = serializers.CharField(required=False, max_length=100)
    severity = SeverityListField(
        required=False, help_text="info|low|medium|high|critical, comma-separated for any of several"
    )
    since = BoundedDateTimeField(
        accept_date=True, required=False, help_text="started_at on or after (ISO 8601 date or datetime)"
    )
    until = BoundedDateTimeField(
        accept_date=True, required=False, help_text="started_at before (ISO 8601 date or datetime)"
    )
    limit = WholeNumberField(required=False, min_value=1, max_value=200, default=50)
    offset = offset_field()
