"""The Activity Log's filter form: the same filters as the API, parsed by the same code
(``audit.selectors.parse_filters``), so both read an entry set the same way. Dates are
date inputs (whole days in UTC); every input problem is reported at once, in the UI's words."""

from __future__ import annotations

from typing import Any

from django import forms

from audit.models import Channel
from audit.registry import ACTIONS
from audit.selectors import AuditFilters, is_acting_key_id, is_target_id, parse_filters
from tater.exceptions import InvalidInput


def _action_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, description in sorted(ACTIONS.items()):
        groups.setdefault(name.split(".")[0], []).append((name, f"{description} ({name})"))
    choices: list[tuple[str, Any]] = [("", "Any action")]
    for group, names in groups.items():
        choices.append((group, [(f"{group}.*", f"Any {_words(group)} action"), *names]))
    return choices


_ACRONYMS = {"api": "API", "mfa": "MFA", "scim": "SCIM", "sso": "SSO"}


def _words(group: str) -> str:
    """An action group as the filter names it: ``scim_user`` → "SCIM user"."""
    return " ".join(_ACRONYMS.get(word, word) for word in group.split("_"))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ActivityFilterForm(forms.Form):
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    action = forms.ChoiceField(required=False, choices=_action_choices)
    actor = forms.CharField(
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"placeholder": "Email or user id (usr-…)", "autocomplete": "off"}),
    )
    # The key that acted (the entries made with it), not the key an entry is about: the same
    # filter as the API's ``key`` (README "Decisions on the audit log").
    key = forms.CharField(
        required=False,
        max_length=64,
        label="Made with API key",
        help_text="The id of the key that made the changes, as its page shows it.",
        widget=forms.TextInput(attrs={"placeholder": "key-…", "autocomplete": "off", "spellcheck": "false"}),
    )
    # What the entries are about (a key's page links here with its id).
    target = forms.CharField(
        required=False,
        max_length=64,
        label="About",
        help_text="Entries about a key, person or org, by its id.",
        widget=forms.TextInput(
            attrs={"placeholder": "key-…, usr-…, org-…", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    since = forms.DateField(
        required=False, label="From", widget=DateInput(), error_messages={"invalid": "Enter a date such as 2026-01-31."}
    )
    until = forms.DateField(
        required=False,
        label="To (inclusive)",
        widget=DateInput(),
        error_messages={"invalid": "Enter a date such as 2026-01-31."},
    )

    def clean_actor(self) -> str:
        actor = self.cleaned_data.get("actor", "").strip()
        if actor and "@" not in actor and not actor.lower().startswith("usr-"):
            raise forms.ValidationError("Enter an email address or a user id (usr-…).")
        return actor

    def clean_key(self) -> str:
        key = self.cleaned_data.get("key", "").strip()
        if key and not is_acting_key_id(key.lower()):
            raise forms.ValidationError("Enter the id of an API key (key-…), not the key itself or its prefix.")
        return key

    def clean_target(self) -> str:
        target = self.cleaned_data.get("target", "").strip()
        if target and not is_target_id(target.lower()):
            raise forms.ValidationError("Enter the id of a key, person or organization (key-…, usr-…, org-…).")
        return target

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "“To” is before “From”: choose a later day.")
            return data
        params = {name: value for name, value in data.items() if value}
        params.update({name: data[name].isoformat() for name in ("since", "until") if data.get(name)})
        try:
            self.filters = parse_filters(params)
        except InvalidInput as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    def filters_or_none(self) -> AuditFilters | None:
        return self.filters if self.is_valid() else None
