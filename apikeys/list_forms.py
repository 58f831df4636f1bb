"""The key list's search, filters and order, its bulk actions, and the confirmation forms
of the lifecycle actions (rotate with a grace period, deactivate, revoke)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django import forms
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.functions import Lower
from django.utils import timezone

from apikeys.forms import GRACE_CHOICES
from apikeys.models import STATUS_LABELS, ApiKey, KeyStatus, KeyType
from apikeys.services import DEFAULT_GRACE_SECONDS
from tater.resubmission import SubmitOnceField

EXPIRING_CHOICES = [("", "Any expiry"), ("7", "Within 7 days"), ("30", "Within 30 days")]
SORTS: dict[str, tuple[str, tuple[str | Combinable, ...]]] = {
    "-created": ("Newest first", ("-created_at", "-id")),
    "created": ("Oldest first", ("created_at", "id")),
    "name": ("Name (A–Z)", (Lower("name"), "id")),
    "-last_used": ("Recently used", (F("last_used_at").desc(nulls_last=True), "-id")),
    "expires": ("Expiring soonest", (F("expires_at").asc(nulls_last=True), "-id")),
}


class ApiKeyFilterForm(forms.Form):
    """The key list's search, filters and order. ``status`` and ``type`` go to the
    selector; the rest narrows or orders what the selector returned (it never widens it)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or prefix", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_LABELS.items()], required=False)
    expiring = forms.ChoiceField(label="Expiry", choices=EXPIRING_CHOICES, required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *KeyType.choices], required=False)
    sort = forms.ChoiceField(
        label="Sort by", choices=[(value, label) for value, (label, _) in SORTS.items()], required=False
    )

    def filters(self) -> dict[str, str]:
        """The selector's filters (an "expiring" filter means active keys)."""
        if not self.is_valid():
            return {}
        found = {name: self.cleaned_data[name] for name in ("status", "type") if self.cleaned_data.get(name)}
        if self.cleaned_data.get("expiring"):
            found["status"] = KeyStatus.ACTIVE
        return found

    @property
    def active(self) -> bool:
        """Whether anything narrows the list (the order alone does not)."""
        return self.is_valid() and any(self.cleaned_data.get(n) for n in ("q", "status", "expiring", "type"))

    def refine(self, keys: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if not self.is_valid():
            return keys
        query = self.cleaned_data.get("q", "").strip()
        if query:
            keys = keys.filter(Q(name__icontains=query) | Q(display_prefix__istartswith=query) | Q(public_id=query))
        days = self.cleaned_data.get("expiring")
        if days:
            keys = keys.filter(expires_at__isnull=False, expires_at__lte=timezone.now() + timedelta(days=int(days)))
        return keys.order_by(*SORTS[self.cleaned_data.get("sort") or "-created"][1])


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


class BulkActionForm(forms.Form):
    """The key list's "with selected" form: which keys, which action, and whether the
    confirmation page was already shown."""

    action = forms.ChoiceField(choices=[("deactivate", "Deactivate"), ("revoke", "Revoke")])
    keys = forms.MultipleChoiceField(required=True)
    confirm = forms.BooleanField(required=False)
    back = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Any key id is accepted here; the view looks each one up within the caller's reach.
        submitted = self.data.getlist("keys") if hasattr(self.data, "getlist") else []
        cast(forms.MultipleChoiceField, self.fields["keys"]).choices = [(k, k) for k in submitted[:100]]


class ConfirmForm(forms.Form):
    """An empty form: the confirmation is the POST itself (with its CSRF token)."""
