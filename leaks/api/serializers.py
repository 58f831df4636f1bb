from __future__ import annotations

from rest_framework import serializers


class SecretMatchInput(serializers.Serializer):
    """One match in GitHub's alert. Fields GitHub may add later are ignored, not refused
    (unlike Tater's own bodies): a protocol change must not stop revocations."""

    token = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="The secret found")
    type = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)
    url = serializers.CharField(
        allow_blank=True, required=False, default="", trim_whitespace=False, help_text="Where it was found"
    )
    # DRF's metaclass makes this the "source" field (Field.source stays the field's own source).
    source = serializers.CharField(  # type: ignore[assignment]
        allow_blank=True,
        required=False,
        default="",
        trim_whitespace=False,
        help_text="content, commit, issue_comment, …",
    )


class SecretLabelOutput(serializers.Serializer):
    token_raw = serializers.CharField()
    token_type = serializers.CharField()
    # DRF's metaclass makes this the "label" field (Field.label stays the field's own label).
    label = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["true_positive", "false_positive"],
        help_text="true_positive: a secret Tater issued (now revoked, or already dead); false_positive: anything else",
    )
