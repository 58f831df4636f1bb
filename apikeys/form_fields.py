"""Form fields shared by the key create and edit forms (allowlist, rate limit, usage
limit), with the checks that report every problem in the UI's words. The service checks
the values again (apikeys.inputs, through apikeys.services)."""

from __future__ import annotations

from typing import Any

from django import forms

from apikeys.inputs import clean_allowed_ips
from apikeys.limits import parse_rate_limit
from apikeys.models import UsageRefill
from tater import names
from tater.exceptions import InvalidInput

USAGE_LIMIT_MAX = 2_000_000_000


def allowlist_field() -> forms.CharField:
    return forms.CharField(
        label="IP allowlist",
        required=False,
        help_text="One IP address or CIDR range per line, e.g. 203.0.113.0/24. Leave empty to allow any address.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )


def rate_limit_field(label: str = "Rate limit for this key") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=32,
        help_text="Stricter than the plan's limit, e.g. 5/min, 1000/hour or 10/30s. Leave empty to use the plan's limit.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "5/min"}),
    )


def usage_limit_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Usage limit",
        required=False,
        min_value=1,
        max_value=USAGE_LIMIT_MAX,
        help_text="At most this many requests, then calls fail with 429 USAGE_EXHAUSTED. Leave empty for no limit.",
        error_messages={
            "min_value": "A usage limit is at least 1 request (leave it empty for no limit).",
            "max_value": "A usage limit is at most 2,000,000,000 requests.",
            "invalid": "Enter a whole number of requests, e.g. 1000.",
        },
        widget=forms.NumberInput(attrs={"autocomplete": "off", "inputmode": "numeric", "placeholder": "No limit"}),
    )


def usage_refill_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Refill the usage limit",
        choices=UsageRefill.choices,
        required=False,
        help_text="Daily or monthly, the key gets its full usage limit again; Never: the limit is for the key's lifetime.",
    )


def usage_errors(data: dict[str, object]) -> dict[str, str]:
    """A refill without a limit (the service refuses it too, in API words)."""
    if data.get("usage_refill") and data.get("usage_limit") is None and "usage_limit" in data:
        return {"usage_refill": "Set a usage limit to refill, or choose Never."}
    return {}


def allowlist_errors(text: str) -> list[str]:
    """Every line of an allowlist that is not an address or network, each in one message
    (so two bad lines are both reported). The service checks the list again."""
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value:
            continue
        try:
            clean_allowed_ips([value])
        except InvalidInput:
            errors.append(
                f"Line {number}: “{value}” is not an IP address or CIDR range (e.g. 203.0.113.7 or 203.0.113.0/24)."
            )
    return errors


def rate_limit_error(value: str) -> str | None:
    if not value.strip():
        return None
    try:
        parse_rate_limit(value)
    except InvalidInput as exc:
        return exc.message
    return None


class AllowlistAndRateLimitCleaning:
    """``clean_name``, ``clean_allowed_ips`` and ``clean_rate_limit`` for a key form with
    those fields: a name with a line break or a control character reported on the name
    field with the other problems (not after them, by the service), every bad allowlist
    line at once, a rate limit in the service's words."""

    cleaned_data: dict[str, Any]

    def clean_name(self) -> str:
        value = str(self.cleaned_data.get("name", ""))
        if not names.is_one_line(value):
            raise forms.ValidationError("Name must be one line of text, without control or text-direction characters.")
        if value.strip() and not names.reads_as_written(value.strip()):
            raise forms.ValidationError(names.INVISIBLE_MESSAGE.format(what="Name") + ".")
        return value

    def clean_allowed_ips(self) -> str:
        value = self.cleaned_data.get("allowed_ips", "")
        errors = allowlist_errors(value)
        if errors:
            raise forms.ValidationError(errors)
        return str(value)

    def clean_rate_limit(self) -> str:
        value = str(self.cleaned_data.get("rate_limit", "")).strip()
        error = rate_limit_error(value)
        if error:
            raise forms.ValidationError(error)
        return value
