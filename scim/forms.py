"""Forms of the SCIM settings page. They only shape input; the rules live in scim.services."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from orgs.roles import OrgRole
from tater.resubmission import SubmitOnceField
from tater.shown_values import post_values_shown

UNMAPPED = ""


class ScimTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        initial="Identity provider provisioning",
        help_text="For example “Entra ID provisioning” or “Okta”. The token is shown once, right after you create it.",
    )
    # One per rendered form: a reload of the show-once page re-posts it (tater.resubmission).
    submit_token = SubmitOnceField()


class GroupMappingForm(forms.Form):
    organization = forms.ChoiceField(label="Organization", required=False)
    role = forms.ChoiceField(label="Role", choices=OrgRole.choices, initial=OrgRole.MEMBER)

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["organization"]).choices = [
            (UNMAPPED, "Not mapped (grants nothing)"),
            *organizations,
        ]
        # Posted with the mapping the page showed (tater.shown_values): a page opened before
        # another owner narrowed the role does not put the older role back when saved for a move.
        post_values_shown(self)
