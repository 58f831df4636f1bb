"""Forms for the org pages. They only shape input: every rule lives in orgs.services, whose
DomainErrors come back onto the form through ``add_domain_error``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import QueryDict

from orgs.models import KeyCreationPolicy, Plan
from orgs.roles import OrgRole, TenantRole
from tater.emails import nfkc
from tater.exceptions import DomainError, HoldsSecret
from tater.resubmission import SubmitOnceField
from tater.shown_values import changed_on_page, post_values_shown


def add_domain_error(form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None) -> None:
    """Show a service's error on the field it names (mapped to the form's field name),
    or at the top of the form when it names none the form has. A value refused for holding
    a live secret is emptied, so the page does not show it back."""
    field = (field_map or {}).get(exc.field or "", exc.field)
    if field and field in form.fields:
        if isinstance(exc, HoldsSecret):  # the page is rendered without it (SPEC §2)
            data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)  # lists kept
            data[form.add_prefix(field)] = ""
            form.data = data
        form.add_error(field, exc.message)
    else:
        form.add_error(None, exc.message)


class OrgSwitchForm(forms.Form):
    org = forms.CharField(max_length=48)
    next = forms.CharField(required=False, max_length=2000)


class OrgCreateForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        label="Organization name",
        help_text="For example a customer or a department. You can invite members and create keys in it.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    submit_token = SubmitOnceField()  # sent twice (a double click, Back and Create): one org


ROLE_HELP: dict[str, str] = {
    OrgRole.ADMIN: "Members, keys, settings and the activity log",
    OrgRole.MEMBER: "Reads everything, writes business data, manages their own keys",
    OrgRole.VIEWER: "Read only; no activity log",
}


class EmailAsTyped(forms.EmailField):
    """An email as typed, read in NFKC before validation (SPEC §8), as sign-up reads it: a
    fullwidth spelling is the address it stands for, not an invalid one."""

    def to_python(self, value: Any) -> Any:
        return super().to_python(nfkc(value) if isinstance(value, str) else value)


class MemberInviteForm(forms.Form):
    email = EmailAsTyped(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"})
    )
    role = forms.ChoiceField(choices=OrgRole.choices, initial=OrgRole.MEMBER)
    # Set when the inviter chose to replace a pending invitation to the same address.
    replace = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MemberRoleForm(forms.Form):
    """A member's row on the Members page; the role is posted with the one the page showed
    (tater.shown_values), so an old page never puts back a role changed since."""

    role = forms.ChoiceField(choices=OrgRole.choices)
    # Set on the confirmation page of a demotion.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        post_values_shown(self, exclude=("confirm",))


NO_TENANT_ROLE = "none"
TENANT_ROLE_LABELS = {
    NO_TENANT_ROLE: "No tenant role",
    TenantRole.ADMIN: "Tenant admin",
    TenantRole.OWNER: "Tenant owner",
}


class MemberTenantRoleForm(forms.Form):
    """A tenant role for someone on the members page. Every choice is accepted here;
    orgs.services decides who may grant what (only owners grant owner, the last owner
    stays). ``offered`` narrows what is rendered to what the acting user may grant. Posted
    with the role the page showed, as the org role row (tater.shown_values)."""

    tenant_role = forms.ChoiceField(choices=list(TENANT_ROLE_LABELS.items()))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, offered: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if offered is not None:
            self.fields["tenant_role"].widget.choices = [(v, TENANT_ROLE_LABELS[v]) for v in offered]
        post_values_shown(self, exclude=("confirm",))

    def role(self) -> str | None:
        value = self.cleaned_data["tenant_role"]
        return None if value == NO_TENANT_ROLE else value


class TenantSettingsForm(forms.Form):
    """A save changes only the settings changed on the page (tater.shown_values): a page opened
    before another owner tightened a policy does not put the older value back."""

    plan = forms.ChoiceField(choices=Plan.choices, help_text="Sets the API rate limits of every key and user.")
    require_2fa = forms.BooleanField(
        required=False,
        label="Require two-factor authentication",
        help_text="Members without 2FA must enrol before they can use the app.",
    )
    key_creation_policy = forms.ChoiceField(choices=KeyCreationPolicy.choices, label="Who may create API keys")
    token_exchange_policy = forms.ChoiceField(
        choices=KeyCreationPolicy.choices,
        label="Who may exchange a password for a key",
        help_text="Applies to POST /api/v1/auth/token (email + password + 2FA code → a new API key).",
    )
    max_key_lifetime_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Maximum key lifetime (days)",
        help_text="Leave empty for no limit. New keys must then expire within this many days; "
        "existing keys that would outlive a new or shorter limit are set to expire this many days from now.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        post_values_shown(self)

    def changes(self) -> dict[str, Any]:
        """The settings changed on the page (cleaned), by field name."""
        return changed_on_page(self)


class OrgRenameForm(forms.Form):
    """The organization settings page's rename form. No length rule here: orgs.services
    .org_rename owns it, and its InvalidInput (field ``name``) lands on this field. The
    browser still gets ``maxlength`` as a hint. The name is posted with the one the page
    showed (tater.shown_values): a page opened before someone else renamed the org does not
    put the old name back."""

    name = forms.CharField(
        label="Organization name",
        help_text="Shown in the organization switcher, the activity log and API responses. The id does not change.",
        widget=forms.TextInput(attrs={"autocomplete": "organization", "maxlength": "200"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        post_values_shown(self)

    def shown_name(self) -> str:
        """The name the posted page showed."""
        return str(self.data.get(self.add_initial_prefix("name"), ""))
