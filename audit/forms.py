"""The Activity Log's filter form: the same filters as the API, parsed by the same code
(``audit.selectors.parse_filters``), so both read an entry set the same way."""

from __future__ import annotations

from typing import Any

from django import forms

from audit.models import Channel
from audit.registry import ACTIONS
from audit.selectors import AuditFilters, parse_filters
from tater.exceptions import InvalidInput


def _action_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, description in sorted(ACTIONS.items()):
        groups.setdefault(name.split(".")[0], []).append((name, f"{name} — {description}"))
    choices: list[tuple[str, Any]] = [("", "Any action")]
    for group, names in groups.items():
        choices.append((group, [(f"{group}.*", f"Any {group}.* action"), *names]))
    return choices


class ActivityFilterForm(forms.Form):
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    action = forms.ChoiceField(required=False, choices=_action_choices)
    actor = forms.CharField(required=False, max_length=254, help_text="Email address or user id")
    key = forms.CharField(required=False, max_length=48, label="API key id", help_text="key-…")
    since = forms.CharField(
        required=False,
        label="From",
        help_text="Date or date-time (UTC)",
        widget=forms.TextInput(attrs={"placeholder": "2026-01-31", "inputmode": "numeric"}),
    )
    until = forms.CharField(
        required=False,
        label="To",
        help_text="Inclusive; a date covers the whole day",
        widget=forms.TextInput(attrs={"placeholder": "2026-01-31T23:59", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            self.filters = parse_filters(data)
        except InvalidInput as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    def filters_or_none(self) -> AuditFilters | None:
        return self.filters if self.is_valid() else None
