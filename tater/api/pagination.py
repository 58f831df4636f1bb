from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request


class LimitOffsetQuery(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)
    offset = serializers.IntegerField(required=False, min_value=0, default=0)


def limit_offset(request: Request, queryset: QuerySet[Any]) -> tuple[list[Any], dict[str, int]]:
    params = LimitOffsetQuery(data=request.query_params)
    params.is_valid(raise_exception=True)
    limit, offset = params.validated_data["limit"], params.validated_data["offset"]
    total = queryset.count()
    return list(queryset[offset : offset + limit]), {"total": total, "limit": limit, "offset": offset}
