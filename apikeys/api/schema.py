"""OpenAPI documentation of this app's views that carry no schema annotations
(SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"] runs ``preprocess_endpoints``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tater.api.schema import documentation_hook, documented


class _UsageBucket(serializers.Serializer):
    hour = serializers.DateTimeField()
    requests = serializers.IntegerField()
    # DRF's metaclass makes this the "errors" field (Serializer.errors stays the property).
    errors = serializers.IntegerField()  # type: ignore[assignment]


class _UsageTotals(serializers.Serializer):
    requests = serializers.IntegerField()
    # DRF's metaclass makes this the "errors" field (Serializer.errors stays the property).
    errors = serializers.IntegerField()  # type: ignore[assignment]


class KeyUsageOutput(serializers.Serializer):
    key_id = serializers.CharField()
    granularity = serializers.CharField()
    from_ = serializers.DateTimeField()
    to = serializers.DateTimeField()
    totals = _UsageTotals()
    buckets = _UsageBucket(many=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields


def _register() -> None:
    from apikeys.api.usage_views import UsageQuery

    documented(
        "apikeys.api.usage_views.KeyUsageView", get={"parameters": [UsageQuery], "responses": {200: KeyUsageOutput}}
    )


preprocess_endpoints = documentation_hook(_register)
