from __future__ import annotations

from typing import Any

from rest_framework import serializers


class OptionalText(serializers.CharField):
    """Text GitHub may leave out or empty, ``null`` included (its documentation: the url
    "may be empty"): read as "". A null must not refuse the whole alert, and with it the
    revocation of every key in it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_blank=True, allow_null=True, required=False, default="", trim_whitespace=False, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class SecretMatchInput(serializers.Serializer):
    """One match in GitHub's alert. Fields GitHub may add later are ignored, not refused
    (unlike Tater's own bodies): a protocol change must not stop revocations."""

    token = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="The secret found")
    type = OptionalText()
    url = OptionalText(help_text="Where it was found")
    # DRF's metaclass makes this the "source" field (Field.source stays the field's own source).
    source = OptionalText(help_text="content, commit, issue_comment, …")  # type: ignore[assignment]


class SecretLabelOutput(serializers.Serializer):
    token_raw = serializers.CharField()
    token_type = serializers.CharField()
    # DRF's metaclass makes this the "label" field (Field.label stays the field's own label).
    label = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["true_positive", "false_positive"],
        help_text="true_positive: a secret Tater issued (now revoked, or already dead); false_positive: anything else",
    )
