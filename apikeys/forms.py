"""Forms for the API key pages. They translate what the user picked (a preset, per-resource
choices, an expiry in days, one CIDR per line) into the arguments of apikeys.services;
every rule (who may create what, lifetime caps, valid CIDRs) is checked by the service."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from apikeys.models import ApiKey, KeyStatus, KeyType
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
EDIT_SERVICE_FIELDS = {"expires_at": "expires_in"}


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


def allowlist_field() -> forms.CharField:
    return forms.CharField(
        label="IP allowlist",
        required=False,
        help_text="One IP address or CIDR range per line, e.g. 203.0.113.0/24. Leave empty to allow any address.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )


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
    allowed_ips = allowlist_field()

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


KEEP_EXPIRY = "keep"
NEVER_EXPIRES = "never"


def access_level(resource: str, scopes: frozenset[str]) -> str:
    """The per-resource choice ("", "read" or "write") that a set of concrete scopes gives."""
    if f"{resource}:write" in scopes:
        return "write"
    return "read" if f"{resource}:read" in scopes else ""


class ApiKeyEditForm(forms.Form):
    """A key's settings after creation. Permissions are per-resource selects that offer only
    what the key already has (narrowing); the field still accepts every level so that a
    widened value reaches apikeys.services.apikey_update, which is what refuses it."""

    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    expires_in = forms.ChoiceField(label="Expires")
    allowed_ips = allowlist_field()
    rate_limit = forms.CharField(
        label="Rate limit for this key",
        required=False,
        max_length=32,
        help_text="Stricter than the plan's limit, e.g. 5/min, 1000/hour or 10/30s. Leave empty to use the plan's limit.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "5/min"}),
    )

    def __init__(self, *args: object, api_key: ApiKey, max_lifetime_days: int | None, **kwargs: object) -> None:
        self.api_key = api_key
        self.key_scopes = S.expand(api_key.scopes)
        kwargs.setdefault(
            "initial",
            {
                "name": api_key.name,
                "expires_in": KEEP_EXPIRY,
                "allowed_ips": "\n".join(api_key.allowed_ips or []),
                "rate_limit": api_key.rate_limit,
                **{perm_field_name(r): access_level(r, self.key_scopes) for r in S.RESOURCES},
            },
        )
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for resource in S.RESOURCES:
            field = forms.ChoiceField(label=RESOURCE_LABELS[resource], choices=ACCESS_CHOICES, required=False)
            # Render only the levels up to what the key has; validation keeps all of them.
            have = access_level(resource, self.key_scopes)
            field.widget.choices = ACCESS_CHOICES[: 1 + ["", "read", "write"].index(have)]
            self.fields[perm_field_name(resource)] = field
        expiry = self.fields["expires_in"]
        current = (
            f"until {date_format(api_key.expires_at, 'M j, Y H:i')} UTC" if api_key.expires_at else "never expires"
        )
        choices = [(KEEP_EXPIRY, f"Keep the current expiry ({current})")]
        for value, label in expiry_choices(max_lifetime_days):
            if value:
                suffix = " — the tenant maximum" if max_lifetime_days and int(value) == max_lifetime_days else ""
                choices.append((value, f"{label.removesuffix(' (tenant maximum)')} from now{suffix}"))
            else:
                choices.append((NEVER_EXPIRES, label))
        expiry.choices = choices
        expiry.help_text = (
            f"This tenant requires keys to expire within {max_lifetime_days} days."
            if max_lifetime_days
            else "A new expiry counts from now."
        )

    def permission_rows(self) -> list[tuple[forms.BoundField, bool]]:
        """(field, whether the key has any access to narrow) per resource, for the template."""
        return [(self[perm_field_name(r)], bool(access_level(r, self.key_scopes))) for r in S.RESOURCES]

    def scopes(self) -> list[str] | None:
        """The chosen scopes, or None when they grant exactly what the key has now (so an
        untouched form never rewrites ``*`` as a list)."""
        chosen = [
            f"{r}:{self.cleaned_data[perm_field_name(r)]}"
            for r in S.RESOURCES
            if self.cleaned_data.get(perm_field_name(r))
        ]
        if S.expand(chosen) == self.key_scopes:
            return None
        return [S.READ_ONLY] if S.expand(chosen) == S.READ_SCOPES else chosen

    def expiry_change(self) -> dict[str, datetime | None]:
        """``{"expires_at": ...}`` for apikey_update, or nothing to keep the current expiry."""
        value = self.cleaned_data["expires_in"]
        if value == KEEP_EXPIRY:
            return {}
        return {"expires_at": None if value == NEVER_EXPIRES else timezone.now() + timedelta(days=int(value))}

    def allowed_ip_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("allowed_ips", "").splitlines() if line.strip()]

    def resource_field(self, scope: str) -> str | None:
        resource = scope.split(":", 1)[0]
        return perm_field_name(resource) if resource in S.RESOURCES else None


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
