from __future__ import annotations

from rest_framework import serializers

from scim.models import ScimToken
from tater.api.fields import RejectUnknownFieldsMixin, StrictCharField, WholeNumberField
from tater.api.pagination import offset_field


class ScimTokenOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    prefix = serializers.CharField(source="display_prefix")
    status = serializers.CharField(help_text='"active" or "revoked"')
    tenant_id = serializers.CharField(source="tenant.public_id")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)

    class Meta:
        model = ScimToken
        fields = [
            "id",
            "name",
            "prefix",
            "status",
            "tenant_id",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]


class IssuedScimTokenOutput(ScimTokenOutput):
    token = serializers.CharField(help_text="The full SCIM token. This is the only time it is shown.")
    scim_url = serializers.CharField(help_text="The tenant URL to give the identity provider")
    notice = serializers.CharField()

    class Meta(ScimTokenOutput.Meta):
        fields = ["token", "scim_url", "notice", *ScimTokenOutput.Meta.fields]


class ScimTokenListOutput(serializers.Serializer):
    tokens = ScimTokenOutput(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class ScimTokenListQuery(serializers.Serializer):
    """``limit``/``offset`` paging, as every list pages (README "Decisions on lists")."""

    limit = WholeNumberField(required=False, min_value=1, max_value=200, default=50)
    offset = offset_field()


class ScimTokenCreateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=100, help_text="e.g. “Entra ID provisioning”")
