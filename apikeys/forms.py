"""Forms for the API key pages. They translate what the user picked (a preset, per-resource
choices, an expiry in days, one CIDR per line) into the arguments of apikeys.services;
every rule (who may create what, lifetime caps, valid CIDRs) is checked by the service."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from apikeys.models import KeyStatus, KeyType
from apikeys.services import DEFAULT_GRACE_SECONDS
from tater import scopes as S

PRESETS = [
    ("full", "Full access", "Read and write everything your role allows."),
    ("read_only", "Read only", "GET requests only: dashboards, reporting, SIEM enrichment."),
    ("limited", "Limited", "Choose read or write per resource."),
]
TYPE_HELP = {
    KeyType.STANDARD: "Scripts, RMM tools and integrations.",
    KeyType.AGENT: "Collectors that upload scans; bound to this organization.",
    KeyType.PUBLIC: "Read-only access, e.g. for a dashboard; bound to this organization.",
}
RESOURCE_LABELS = {
    "organizations": "Organizations",
    "members": "Members",
    "keys": "API keys",
    "audit": "Activity log",
    "scans": "Scans",
}
ACCESS_CHOICES = [("", "No access"), ("read", "Read"), ("write", "Read and write")]
EXPIRY_DAYS = (7, 30, 90, 180, 365)
GRACE_CHOICES = [
    (0, "No grace period: the current key stops working now"),
    (3600, "1 hour"),
    (DEFAULT_GRACE_SECONDS, "24 hours (recommended)"),
    (7 * 24 * 3600, "7 days"),
]

# Which form field shows a service error about each service argument.
SERVICE_FIELDS = {"scopes": "preset", "expires_at": "expires_in", "type": "type", "allowed_ips": "allowed_ips"}


def perm_field_name(resource: str) -> str:
    return f"perm_{resource}"


def expiry_choices(max_days: int | None) -> list[tuple[str, str]]:
    choices = [] if max_days else [("", "Never expires")]
    for days in EXPIRY_DAYS:
        if max_days is None or days <= max_days:
            choices.append((str(days), f"{days} days" if days != 365 else "1 year"))
    if max_days and max_days not in EXPIRY_DAYS:
        choices.append((str(max_days), f"{max_days} days (tenant maximum)"))
    return choices


class SubmitOnceField(forms.CharField):
    """A random token per rendered form: a reload of the show-once page re-posts the same
    token, which the view recognises instead of issuing yet another key."""

    def __init__(self) -> None:
        super().__init__(required=False, max_length=64, widget=forms.HiddenInput)


def new_submit_token() -> str:
    return secrets.token_urlsafe(16)


class ApiKeyCreateForm(forms.Form):
    submit_token = SubmitOnceField()
    name = forms.CharField(
        max_length=100,
        help_text="What uses this key, e.g. “RMM nightly sync”. One key per integration.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    type = forms.ChoiceField(choices=KeyType.choices, initial=KeyType.STANDARD, widget=forms.RadioSelect)
    binding = forms.ChoiceField(widget=forms.RadioSelect)
    preset = forms.ChoiceField(
        label="Permissions", choices=[(value, label) for value, label, _ in PRESETS], widget=forms.RadioSelect
    )
    expires_in = forms.ChoiceField(label="Expires", required=False)
    allowed_ips = forms.CharField(
        label="IP allowlist",
        required=False,
        help_text="One IP address or CIDR range per line, e.g. 203.0.113.0/24. Leave empty to allow any address.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )

    def __init__(
        self,
        *args: object,
        org_name: str | None,
        can_create_unbound: bool,
        max_lifetime_days: int | None,
        full_access_allowed: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        bindings = []
        if org_name:
            bindings.append(("org", f"This organization: {org_name}"))
        if can_create_unbound:
            bindings.append(("unbound", "Unbound (tenant-wide; each call names an organizationId)"))
        self.fields["binding"].choices = bindings
        self.fields["binding"].initial = bindings[0][0] if bindings else None
        self.fields["preset"].initial = "full" if full_access_allowed else "read_only"
        for resource in S.RESOURCES:
            self.fields[perm_field_name(resource)] = forms.ChoiceField(
                label=RESOURCE_LABELS[resource], choices=ACCESS_CHOICES, required=False
            )
        expiry = self.fields["expires_in"]
        expiry.choices = expiry_choices(max_lifetime_days)
        expiry.required = bool(max_lifetime_days)
        expiry.initial = "365" if not max_lifetime_days or max_lifetime_days >= 365 else str(max_lifetime_days)
        if max_lifetime_days:
            expiry.help_text = f"This tenant requires keys to expire within {max_lifetime_days} days."
        else:
            expiry.help_text = "An expiry limits the damage of a leaked key. Rotate keys at least yearly."

    def permission_fields(self) -> list[forms.BoundField]:
        return [self[perm_field_name(resource)] for resource in S.RESOURCES]

    def scopes(self) -> list[str]:
        preset = self.cleaned_data["preset"]
        if preset in S.PRESETS:
            return list(S.PRESETS[preset])
        return [
            f"{resource}:{self.cleaned_data[perm_field_name(resource)]}"
            for resource in S.RESOURCES
            if self.cleaned_data.get(perm_field_name(resource))
        ]

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None

    def allowed_ip_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("allowed_ips", "").splitlines() if line.strip()]

    @property
    def unbound(self) -> bool:
        return self.cleaned_data.get("binding") == "unbound"


class ApiKeyFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *KeyStatus.choices], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *KeyType.choices], required=False)

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


class RotateForm(forms.Form):
    submit_token = SubmitOnceField()
    grace_period_seconds = forms.TypedChoiceField(
        label="Keep the current key working for",
        choices=GRACE_CHOICES,
        coerce=int,
        initial=DEFAULT_GRACE_SECONDS,
        widget=forms.RadioSelect,
        help_text="Time to deploy the new key before the current one stops working.",
    )


class ConfirmForm(forms.Form):
    """An empty form: the confirmation is the POST itself (with its CSRF token)."""
