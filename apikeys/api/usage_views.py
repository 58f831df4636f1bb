"""``GET /api/v1/keys/{key_id}/usage/``: a key's hourly requests and errors."""

from __future__ import annotations

from datetime import timedelta

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys import selectors, usage
from apikeys.api.views import KeyView
from tater.api.fields import RejectBlankQueryMixin, WholeNumberField

DEFAULT_HOURS = 24


class UsageQuery(RejectBlankQueryMixin, serializers.Serializer):
    hours = WholeNumberField(required=False, min_value=1, max_value=usage.MAX_HOURS)
    days = WholeNumberField(required=False, min_value=1, max_value=usage.MAX_HOURS // 24)

    def validate(self, attrs: dict) -> dict:
        if "hours" in attrs and "days" in attrs:
            raise serializers.ValidationError({"days": ["Pass either hours or days, not both."]})
        return attrs


class KeyUsageView(KeyView):
    """Hourly buckets (UTC, oldest first, current hour included) for the last ``hours``
    (default 24) or ``days``; kept 90 days. Same reach rule as the key itself (404 outside)."""

    required_scopes = {"GET": "keys:read"}
    unbound_keys = "tenant"  # an unbound key reaches all of its owner's keys (SPEC §2a)
    query_fields = {"GET": frozenset(UsageQuery().fields)}

    def get(self, request: Request, key_id: str) -> Response:
        query = UsageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        hours = params["days"] * 24 if "days" in params else params.get("hours", DEFAULT_HOURS)
        api_key = selectors.apikey_get(access=self.access(request), public_id=key_id)
        buckets = usage.usage_buckets(key_pk=api_key.pk, hours=hours)
        return Response(
            {
                "key_id": api_key.public_id,
                "granularity": "hour",
                "from": buckets[0].hour,
                "to": buckets[-1].hour + timedelta(hours=1),
                "totals": {"requests": sum(b.requests for b in buckets), "errors": sum(b.errors for b in buckets)},
                "buckets": [{"hour": b.hour, "requests": b.requests, "errors": b.errors} for b in buckets],
            }
        )
