"""Forms for the API key pages. They translate what the user picked (a preset, per-resource
choices, an expiry in days, one CIDR per line) into the arguments of apikeys.services;
every rule (who may create what, lifetime caps, valid CIDRs) is checked by the service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone

from apikeys.form_fields import (
    AllowlistAndRateLimitCleaning,
    allowlist_field,
    rate_limit_field,
    usage_errors,
    usage_limit_field,
    usage_refill_field,
)
from apikeys.models import ApiKey, KeyType
from apikeys.services import DEFAULT_GRACE_SECONDS
from orgs.forms import add_domain_error
from tater import scopes as S
from tater.exceptions import DomainError, NotPermitted
from tater.resubmission import SubmitOnceField
from tater.templatetags.tater_format import when_text

PRESETS = [
    ("full", "Full access", "Read and write everything your role allows."),
    ("read_only", "Read only", "GET requests only: dashboards, reporting, SIEM enrichment."),
    ("limited", "Limited", "Choose read or write per resource."),
]
TYPE_HELP: dict[str, str] = {
    KeyType.STANDARD: "Scripts, RMM tools and integrations: the permissions you choose.",
    KeyType.AGENT: "Collectors on your machines: upload scans, nothing else. Bound to this organization.",
    KeyType.PUBLIC: "Embeddable read-only access (dashboards): reads scans and the organization. Bound to this organization.",
}
RESOURCE_LABELS = {
    "organizations": "Organizations",
    "members": "Members",
    "keys": "API keys",
    "audit": "Activity log",
    "scans": "Scans",
}
# What each permission lets a key do, in the words of the API it opens.
PERMISSION_HELP = {
    "organizations": {
        "read": "See the organization's name and id (GET /api/v1/organizations/).",
        "write": "Also create and rename organizations, as far as your role allows.",
    },
    "members": {
        "read": "List members, their roles and pending invitations.",
        "write": "Also invite people, change roles and remove members.",
    },
    "keys": {
        "read": "List API keys and their settings (never their secrets).",
        "write": "Also create, narrow, deactivate and revoke keys.",
    },
    "audit": {
        "read": "Read and export the Activity Log.",
        "write": "Nothing more: entries can never be changed.",
    },
    "scans": {
        "read": "List scans and their findings.",
        "write": "Also upload scans (POST /api/scans/upload).",
    },
}
ACCESS_CHOICES = [("", "No access"), ("read", "Read"), ("write", "Read and write")]
# What each key type can use (SPEC §2, docs/authorization.md): agent keys are admitted only
# to scan uploads, public keys only to business-data reads, capped at these scopes.
AGENT_SCOPES = ["scans:write"]
PUBLIC_RESOURCES = ("organizations", "scans")
EXPIRY_DAYS = (7, 30, 90, 180, 365)
GRACE_CHOICES = [
    (0, "No grace period: the current key stops working now"),
    (3600, "1 hour"),
    (DEFAULT_GRACE_SECONDS, "24 hours (recommended)"),
    (7 * 24 * 3600, "7 days"),
]

# Which form field shows a service error about each service argument.
SERVICE_FIELDS = {
    "scopes": "preset",
    "expires_at": "expires_in",
    "type": "type",
    "allowed_ips": "allowed_ips",
    "rate_limit": "rate_limit",
    "name": "name",
    "usage_limit": "usage_limit",
    "usage_refill": "usage_refill",
}
EDIT_SERVICE_FIELDS = {
    "expires_at": "expires_in",
    "usage_limit": "usage_limit",
    "usage_refill": "usage_refill",
    "allowed_ips": "allowed_ips",
    "rate_limit": "rate_limit",
}


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


def _listed(scopes: frozenset[str]) -> list[str]:
    """Concrete scopes without the reads their writes imply."""
    return sorted(s for s in scopes if not (s.endswith(":read") and s.replace(":read", ":write") in scopes))


class ApiKeyCreateForm(AllowlistAndRateLimitCleaning, forms.Form):
    """A new key. The type is chosen first (``?type=`` on the page, a hidden field here) and
    the form offers only what that type can use: agent keys upload scans, public keys read
    scans and the organization, and both are bound to the current organization. Levels above
    the creator's own role are not offered. Input errors are all reported together; the
    service (apikeys.services.apikey_create) decides what may be created."""

    submit_token = SubmitOnceField()
    type = forms.ChoiceField(choices=KeyType.choices, initial=KeyType.STANDARD, widget=forms.HiddenInput)
    name = forms.CharField(
        max_length=100,
        help_text="What uses this key, e.g. “RMM nightly sync”. One key per integration.",
        error_messages={"required": "Give the key a name, so you recognise it in the list and the Activity Log."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    binding = forms.ChoiceField(widget=forms.RadioSelect, required=False)
    preset = forms.ChoiceField(
        label="Permissions",
        choices=[(value, label) for value, label, _ in PRESETS],
        widget=forms.RadioSelect,
        required=False,
    )
    expires_in = forms.ChoiceField(label="Expires", required=False)
    allowed_ips = allowlist_field()
    rate_limit = rate_limit_field()
    usage_limit = usage_limit_field()
    usage_refill = usage_refill_field()

    def __init__(
        self,
        *args: object,
        key_type: str,
        org_name: str | None,
        can_create_unbound: bool,
        max_lifetime_days: int | None,
        creator_scopes: frozenset[str],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.key_type = key_type if key_type in KeyType.values else KeyType.STANDARD
        self.org_name = org_name
        self.creator_scopes = creator_scopes
        self.fields["type"].initial = self.key_type
        bindings = []
        if org_name:
            bindings.append(("org", f"This organization: {org_name}"))
        if can_create_unbound and self.key_type == KeyType.STANDARD:
            bindings.append(("unbound", "Unbound (tenant-wide; each call names an organizationId)"))
        cast(forms.ChoiceField, self.fields["binding"]).choices = bindings
        self.fields["binding"].initial = bindings[0][0] if bindings else None
        self.fields["preset"].initial = "full"
        self.fields["preset"].help_text = "A key never gets more than your own role allows."
        if self.key_type != KeyType.STANDARD:
            # Agent and public keys are always bound to the current org and carry fixed or
            # per-resource permissions: these choices do not exist for them.
            del self.fields["binding"], self.fields["preset"]
        for resource in self.offered_resources():
            # Render only the levels offered; validation keeps all of them, so a hand-made
            # POST reaches the service, which refuses it and names the permission.
            field = forms.ChoiceField(
                label=RESOURCE_LABELS[resource],
                choices=ACCESS_CHOICES,
                required=False,
                widget=forms.Select(attrs={"aria-describedby": f"id_{perm_field_name(resource)}_helptext"}),
            )
            field.widget.choices = self._levels(resource)
            self.fields[perm_field_name(resource)] = field
        if self.key_type == KeyType.PUBLIC:
            for resource in PUBLIC_RESOURCES:
                self.fields[perm_field_name(resource)].initial = "read"
        expiry = cast(forms.ChoiceField, self.fields["expires_in"])
        expiry.choices = expiry_choices(max_lifetime_days)
        expiry.required = bool(max_lifetime_days)
        expiry.initial = "365" if not max_lifetime_days or max_lifetime_days >= 365 else str(max_lifetime_days)
        if max_lifetime_days:
            expiry.help_text = f"This tenant requires keys to expire within {max_lifetime_days} days."
            beyond = f"This tenant requires keys to expire within {max_lifetime_days} days: choose one of the offered expiries."
            expiry.error_messages.update({"required": beyond, "invalid_choice": beyond})
        else:
            expiry.error_messages["invalid_choice"] = "Choose one of the offered expiries."
            expiry.help_text = "An expiry limits the damage of a leaked key. Rotate keys at least yearly."

    # --- What the chosen type offers -------------------------------------------------

    def offered_resources(self) -> tuple[str, ...]:
        if self.key_type == KeyType.AGENT:
            return ()
        if self.key_type == KeyType.PUBLIC:
            return PUBLIC_RESOURCES
        return S.RESOURCES

    def _levels(self, resource: str) -> list[tuple[str, str]]:
        """The levels offered for a resource: up to what the creator holds, read only for
        public keys, and no "write" on the append-only audit log."""
        levels = [ACCESS_CHOICES[0]]
        if f"{resource}:read" in self.creator_scopes:
            levels.append(ACCESS_CHOICES[1])
        if self.key_type == KeyType.STANDARD and resource != "audit" and f"{resource}:write" in self.creator_scopes:
            levels.append(ACCESS_CHOICES[2])
        return levels

    @property
    def fixed_binding(self) -> str | None:
        """The binding shown as text when there is nothing to choose."""
        if "binding" not in self.fields:
            return f"This organization: {self.org_name}"
        # __init__ set the field's choices to a list of (value, label) pairs.
        choices = cast(list[tuple[str, str]], cast(forms.ChoiceField, self.fields["binding"]).choices)
        return choices[0][1] if len(choices) == 1 else None

    def keep_typed(self, data: Mapping[str, str]) -> None:
        """Start this (unbound) form with what was typed on the form of another type: every
        value this type offers; a permission left at "No access" keeps this type's default."""
        for name, field in self.fields.items():
            value = data.get(name)
            if name in ("type", "submit_token") or value is None or (name.startswith("perm_") and not value):
                continue
            offered = getattr(field.widget, "choices", None)
            if offered is None or value in {str(choice) for choice, _ in offered}:
                self.initial[name] = value

    def permission_rows(self) -> list[dict[str, object]]:
        rows = []
        for resource in self.offered_resources():
            field = self[perm_field_name(resource)]
            offered = [value for value, _ in field.field.widget.choices if value]
            rows.append(
                {
                    "field": field,
                    "help": [(dict(ACCESS_CHOICES)[level], PERMISSION_HELP[resource][level]) for level in offered],
                }
            )
        return rows

    # --- Validation: every input problem at once -------------------------------------------

    def clean(self) -> dict[str, object]:
        super().clean()
        data = self.cleaned_data
        if data.get("type") and data["type"] != self.key_type:
            # The page was rendered for another type: the hidden field was changed.
            self.add_error(None, "Choose the key type above the form.")
        if self.key_type == KeyType.STANDARD:
            if not data.get("binding"):
                self.add_error("binding", "Choose where the key works.")
            preset = data.get("preset")
            if not preset:
                self.add_error("preset", "Choose the key's permissions.")
            elif preset == "limited" and not self._chosen():
                self.add_error("preset", "Choose at least one permission below for a Limited key.")
        elif self.key_type == KeyType.PUBLIC and not self._chosen():
            self.add_error(None, "Choose at least one thing this public key may read.")
        for field, message in usage_errors(data).items():
            self.add_error(field, message)
        return data

    def _chosen(self) -> list[str]:
        return [
            f"{resource}:{self.cleaned_data[perm_field_name(resource)]}"
            for resource in self.offered_resources()
            if self.cleaned_data.get(perm_field_name(resource))
        ]

    # --- The service's arguments --------------------------------------------------------

    def scopes(self) -> list[str]:
        """ "Full access" and "Read only" mean *as far as your role allows*: a creator who
        holds everything gets ``*`` / ``*:read``, anyone else their own scopes (never more)."""
        if self.key_type == KeyType.AGENT:
            return list(AGENT_SCOPES)
        if self.key_type == KeyType.PUBLIC:
            return self._chosen()
        preset = self.cleaned_data["preset"]
        if preset == "full":
            return [S.FULL_ACCESS] if S.ALL_SCOPES <= self.creator_scopes else _listed(self.creator_scopes)
        if preset == "read_only":
            reads = self.creator_scopes & S.READ_SCOPES
            return [S.READ_ONLY] if reads == S.READ_SCOPES else sorted(reads)
        return self._chosen()

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None

    def allowed_ip_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("allowed_ips", "").splitlines() if line.strip()]

    @property
    def unbound(self) -> bool:
        return self.key_type == KeyType.STANDARD and self.cleaned_data.get("binding") == "unbound"

    def resource_field(self, scope: str) -> str | None:
        resource = scope.split(":", 1)[0]
        name = perm_field_name(resource)
        return name if name in self.fields else None


KEEP_EXPIRY = "keep"
NEVER_EXPIRES = "never"


def access_level(resource: str, scopes: frozenset[str]) -> str:
    """The per-resource choice ("", "read" or "write") that a set of concrete scopes gives."""
    if f"{resource}:write" in scopes:
        return "write"
    return "read" if f"{resource}:read" in scopes else ""


def _earlier(choice: str, api_key: ApiKey) -> bool:
    """Does the edit form's expiry ``choice`` keep or bring forward the key's expiry?"""
    if choice == KEEP_EXPIRY:
        return True
    if choice == NEVER_EXPIRES:
        return api_key.expires_at is None
    return api_key.expires_at is None or timezone.now() + timedelta(days=int(choice)) <= api_key.expires_at


class ApiKeyEditForm(AllowlistAndRateLimitCleaning, forms.Form):
    """A key's settings after creation. Permissions are per-resource selects that offer only
    what the key already has (narrowing); the field still accepts every level so that a
    widened value reaches apikeys.services.apikey_update, which is what refuses it.

    The page posts every setting it showed: ``seen`` says which settings those were, so a
    page opened before someone else changed the key cannot put its old values back (an
    owner's old tab undoing an admin's narrowing)."""

    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    expires_in = forms.ChoiceField(label="Expires")
    allowed_ips = allowlist_field()
    rate_limit = rate_limit_field()
    usage_limit = usage_limit_field()
    usage_refill = usage_refill_field()

    def __init__(
        self, *args: object, api_key: ApiKey, max_lifetime_days: int | None, owner: bool = True, **kwargs: object
    ) -> None:
        """``owner``: the editor owns the key; anyone else (an admin) may narrow it, not rename it."""
        self.api_key = api_key
        self.key_scopes = S.expand(api_key.scopes)
        kwargs.setdefault(
            "initial",
            {
                "name": api_key.name,
                "expires_in": KEEP_EXPIRY,
                "seen": api_key.settings_version(),
                "allowed_ips": "\n".join(api_key.allowed_ips or []),
                "rate_limit": api_key.rate_limit,
                "usage_limit": api_key.usage_limit,
                "usage_refill": api_key.usage_refill,
                **{perm_field_name(r): access_level(r, self.key_scopes) for r in S.RESOURCES},
            },
        )
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not owner:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "Only the key's owner can rename it."
        for resource in S.RESOURCES:
            field = forms.ChoiceField(label=RESOURCE_LABELS[resource], choices=ACCESS_CHOICES, required=False)
            # Render only the levels up to what the key has; validation keeps all of them.
            have = access_level(resource, self.key_scopes)
            field.widget.choices = ACCESS_CHOICES[: 1 + ["", "read", "write"].index(have)]
            self.fields[perm_field_name(resource)] = field
        expiry = cast(forms.ChoiceField, self.fields["expires_in"])
        current = f"until {when_text(api_key.expires_at)}" if api_key.expires_at else "never expires"
        choices = [(KEEP_EXPIRY, f"Keep the current expiry ({current})")]
        for value, label in expiry_choices(max_lifetime_days):
            if value:
                suffix = " — the tenant maximum" if max_lifetime_days and int(value) == max_lifetime_days else ""
                choices.append((value, f"{label.removesuffix(' (tenant maximum)')} from now{suffix}"))
            else:
                choices.append((NEVER_EXPIRES, label))
        expiry.choices = choices
        if not owner:
            # An admin may only bring the expiry forward: render those choices (validation
            # keeps every one, so a widened value still meets apikey_update's refusal).
            expiry.widget.choices = [(value, label) for value, label in choices if _earlier(value, api_key)]
        expiry.help_text = (
            f"This tenant requires keys to expire within {max_lifetime_days} days."
            if max_lifetime_days
            else "A new expiry counts from now."
        )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for field, message in usage_errors(data).items():
            self.add_error(field, message)
        return data

    def is_stale(self) -> bool:
        """Was the page posted shown before the key's settings last changed? (Asked first to
        explain; apikeys.services.apikey_update asks again under the key's lock.)"""
        seen = self.seen_version()
        return bool(seen) and seen != self.api_key.settings_version()

    def seen_version(self) -> str | None:
        """The settings version the posted page showed (None: not said)."""
        return (self.data.get("seen") or None) if self.is_bound else None

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

    def expiry_change(self) -> dict[str, Any]:
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


# What someone other than the key's owner may still do with each setting (SPEC §2a).
NARROW_ONLY = {
    "expires_at": "Only the key's owner can remove its expiry or move it later; you may choose an earlier one.",
    "allowed_ips": "Only the key's owner can allow more addresses; you may only remove addresses or ranges.",
    "rate_limit": "Only the key's owner can raise or remove its rate limit; you may only make it stricter.",
    "usage_limit": "Only the key's owner can raise or remove its usage limit; you may only lower it.",
    "usage_refill": "Only the key's owner can make its usage limit refill more often.",
}


def show_edit_error(form: ApiKeyEditForm, exc: DomainError) -> None:
    """Service errors on the edit form. A widening attempt comes back as NotPermitted
    naming the scopes the key lacks: each goes on its resource's select, in words that
    say what to do instead."""
    beyond = (exc.details or {}).get("required_permissions") if isinstance(exc, NotPermitted) else None
    fields = {form.resource_field(scope): scope for scope in beyond or ()}
    widened = (exc.details or {}).get("widened") if isinstance(exc, NotPermitted) else None
    if widened and not beyond:
        # A widening refused (e.g. a later expiry set by an admin): on each field widened, in
        # words saying what may be done instead (the service's message names its arguments).
        named = {EDIT_SERVICE_FIELDS.get(name, name): name for name in widened}
        for field in [f for f in named if f in form.fields] or [None]:
            form.add_error(field, NARROW_ONLY.get(named.get(field, ""), exc.message) if field else exc.message)
        return
    if not beyond or None in fields:
        add_domain_error(form, exc, EDIT_SERVICE_FIELDS)
        return
    for field, scope in fields.items():
        form.add_error(
            field,
            f"This key does not have {scope}. Permissions can only be narrowed: generate a new key for more access.",
        )
