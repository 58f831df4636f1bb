"""Input fields stricter than DRF's defaults, so bad input is refused rather than coerced."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectBlankQueryMixin:
    """Query serializers: a present-but-empty parameter is a client mistake, not "no filter"
    (DRF otherwise treats ``?type=`` as absent)."""

    def to_internal_value(self, data: Any) -> Any:
        blank = [name for name in self.fields if name in data and not str(data[name]).strip()]  # type: ignore[attr-defined]
        if blank:
            raise serializers.ValidationError({name: ["This value may not be blank."] for name in blank})
        return super().to_internal_value(data)  # type: ignore[misc]
