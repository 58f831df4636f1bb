from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikeys import key_page
from apikeys.models import ApiKey, KeyStatus, KeyType, UsageRefill
from apikeys.services import DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS
from tater import scopes as S
from tater.api.fields import (
    BoundedDateTimeField,
    BoundedListField,
    RejectBlankQueryMixin,
    RejectUnknownFieldsMixin,
    StrictBooleanField,
    StrictCharField,
    WholeNumberField,
)
from tater.api.pagination import offset_field

MAX_ALLOWED_IPS = 100
MAX_SCOPES = 100  # far more than there are distinct scopes: a longer list is a mistake or worse


class RecentAddress(serializers.Serializer):
    ip = serializers.CharField()
    last_seen = serializers.DateTimeField(allow_null=True)


class ApiKeyOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    prefix = serializers.CharField(source="display_prefix")
    organization_id = serializers.SerializerMethodField()
    tenant_id = serializers.CharField(source="tenant.public_id")
    owner = serializers.EmailField(source="owner.email")
    status = serializers.ChoiceField(choices=KeyStatus.choices)
    binding = serializers.SerializerMethodField()
    rotation = serializers.SerializerMethodField(
        help_text="During a rotation's grace period: the old secret's prefix, until when it works, and when each secret was last used"
    )
    recent_ips = serializers.SerializerMethodField(help_text="The last 5 distinct client addresses, newest first")
    usage = serializers.SerializerMethodField(help_text="A usage-limited key's limit, remaining uses and refill")

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "type",
            "prefix",
            "status",
            "binding",
            "organization_id",
            "tenant_id",
            "owner",
            "scopes",
            "expires_at",
            "is_active",
            "revoked_at",
            "last_used_at",
            "last_used_ip",
            "recent_ips",
            "allowed_ips",
            "rate_limit",
            "usage_limit",
            "usage_refill",
            "usage",
            "metadata",
            "rotation",
            "created_at",
            "updated_at",
        ]

    def get_rotation(self, obj: ApiKey) -> dict[str, Any] | None:
        ends = obj.previous_secret_ends
        if not obj.previous_digest or ends is None or obj.revoked_at is not None:
            return None
        from django.utils import timezone

        if ends <= timezone.now():
            return None
        return {
            "previous_prefix": obj.previous_display_prefix or None,
            "previous_valid_until": serializers.DateTimeField().to_representation(ends),
            "previous_last_used_at": serializers.DateTimeField().to_representation(obj.previous_last_used_at)
            if obj.previous_last_used_at
            else None,
            "current_last_used_at": serializers.DateTimeField().to_representation(obj.current_last_used_at)
            if obj.current_last_used_at
            else None,
        }

    @extend_schema_field(RecentAddress(many=True))
    def get_recent_ips(self, obj: ApiKey) -> Any:
        # Kept as text by the usage counters; written out like every other date (UTC, "Z").
        return RecentAddress(key_page.recent_addresses(obj), many=True).data

    def get_usage(self, obj: ApiKey) -> dict[str, Any] | None:
        from apikeys import uses

        listed = self.context.get("uses")  # a list page's counts, read at once (uses.current_many)
        counted = listed.get(obj.pk) if listed is not None else uses.current(obj.pk, obj.usage_limit, obj.usage_refill)
        return counted.as_json() if counted is not None else None

    def get_organization_id(self, obj: ApiKey) -> str | None:
        return obj.organization.public_id if obj.organization is not None else None

    def get_binding(self, obj: ApiKey) -> str:
        return "unbound" if obj.organization_id is None else "organization"


class IssuedKeyOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The full key. This is the only time it is shown.")
    headers = serializers.DictField(child=serializers.CharField())
    notice = serializers.CharField()

    class Meta(ApiKeyOutput.Meta):
        fields = ["key", "headers", "notice", *ApiKeyOutput.Meta.fields]


class ApiKeyListOutput(serializers.Serializer):
    """Documentation of the list response (GET keys/)."""

    keys = ApiKeyOutput(many=True)
    total = serializers.IntegerField(help_text="Keys of the list (filters applied; the cursor aside)")
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    has_more = serializers.BooleanField(help_text="More keys follow this page (next: starting_after its last id)")


class RotatedKeyOutput(IssuedKeyOutput):
    """Documentation of the rotate response: the new key, and until when the old one works."""

    previous_key_valid_until = serializers.DateTimeField(allow_null=True)

    class Meta(IssuedKeyOutput.Meta):
        fields = [*IssuedKeyOutput.Meta.fields, "previous_key_valid_until"]


def issued_key_data(api_key: ApiKey, key: str) -> dict[str, Any]:
    data = dict(ApiKeyOutput(api_key).data)
    return {
        "key": key,
        "headers": {"X-API-Key": key},
        "notice": "This is the only time the full key is shown. Store it now; only its prefix is kept.",
        **data,
    }


def _scope_list(value: Any) -> list[str]:
    try:
        return S.validate_specs(value)
    except S.InvalidScope as exc:
        raise serializers.ValidationError(str(exc)) from None


class ScopesField(BoundedListField):
    child = StrictCharField(trim_whitespace=False)  # as listed: "scans:read " is refused

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_SCOPES)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        return _scope_list(super().to_internal_value(data))


class ApiKeyCreateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=100)
    type = serializers.ChoiceField(choices=KeyType.choices, default=KeyType.STANDARD)
    scopes = ScopesField(
        required=False,
        help_text='"*" (full), "*:read" (read only) or resource:action; omitted: your own effective permissions. '
        'Agent keys carry "scans:write" only (also when omitted); public keys "scans:read", '
        '"organizations:read" or "*:read"; any other scope for them is a 400 naming it',
    )
    expires_at = BoundedDateTimeField(
        required=False,
        allow_null=True,
        help_text="Omitted: no expiry, or the longest the tenant's maximum key lifetime allows when it sets one "
        "(through an API key with an expiry: that key's)",
    )
    allowed_ips = BoundedListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=MAX_ALLOWED_IPS
    )
    rate_limit = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=32, trim_whitespace=False
    )
    usage_limit = WholeNumberField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2_000_000_000,
        help_text="At most this many requests per refill period (null: unlimited)",
    )
    usage_refill = serializers.ChoiceField(
        choices=UsageRefill.choices, required=False, default="", help_text='"" (never), "daily" or "monthly" (UTC)'
    )
    unbound = StrictBooleanField(default=False, help_text="Tenant-wide key (tenant owners only)")
    metadata = serializers.JSONField(
        required=False, help_text="A JSON object of at most 4 KB, returned by validate. Never put a secret in it."
    )


class ApiKeyUpdateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    scopes = ScopesField(
        required=False,
        help_text="Through an API key, or for another person's key, scopes may only narrow. "
        'Agent keys carry "scans:write" only; public keys "scans:read", "organizations:read" or "*:read"',
    )
    expires_at = BoundedDateTimeField(required=False, allow_null=True)
    allowed_ips = BoundedListField(
        child=serializers.CharField(max_length=64), required=False, max_length=MAX_ALLOWED_IPS
    )
    rate_limit = serializers.CharField(required=False, allow_blank=True, max_length=32, trim_whitespace=False)
    usage_limit = WholeNumberField(required=False, allow_null=True, min_value=1, max_value=2_000_000_000)
    usage_refill = serializers.ChoiceField(choices=UsageRefill.choices, required=False)
    metadata = serializers.JSONField(
        required=False, allow_null=True, help_text="Replaces the key's metadata; null clears it"
    )


class RotateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    grace_period_seconds = WholeNumberField(min_value=0, max_value=MAX_GRACE_SECONDS, default=DEFAULT_GRACE_SECONDS)


class ApiKeyListQuery(RejectBlankQueryMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=KeyStatus.choices, required=False)
    type = serializers.ChoiceField(choices=KeyType.choices, required=False)
    # "organization" and "unbound" are what a key's `binding` reads; "org" is the older spelling
    # (the Python client's), kept. The selector takes "org" or "unbound".
    binding = serializers.ChoiceField(
        choices=[("organization", "organization"), ("org", "org"), ("unbound", "unbound")], required=False
    )
    limit = WholeNumberField(required=False, min_value=1, max_value=200, default=50)
    offset = offset_field()
    starting_after = serializers.CharField(
        required=False,
        max_length=64,
        help_text="A key id of a previous page (its last): continue after it, whatever changed meanwhile",
    )

    def validate_binding(self, value: str) -> str:
        return "org" if value == "organization" else value


class ValidateOutput(serializers.Serializer):
    valid = serializers.BooleanField()
    id = serializers.CharField()
    type = serializers.CharField()
    prefix = serializers.CharField(help_text="The presented secret's display prefix (a rotated-out one: its own)")
    name = serializers.CharField()
    organization_id = serializers.CharField(allow_null=True)
    tenant_id = serializers.CharField()
    binding = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the presented secret stops working: the key's expiry, or a rotated-out secret's end of grace when sooner",
    )
    metadata = serializers.DictField(help_text="The key's metadata (a JSON object, at most 4 KB)")
    usage = serializers.DictField(
        allow_null=True, help_text="Usage-limited keys: limit, remaining (after this request), refill, resets_at"
    )
