from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from accounts.models import TenantSSOConfig
from orgs.models import Organization


class SignupForm(AllauthSignupForm):
    """allauth's sign-up, refusing emails of a domain whose tenant requires SSO (those
    users get their account from their identity provider)."""

    def clean_email(self) -> str:
        from accounts import sso
        from accounts.adapter import SSO_REQUIRED_MESSAGE

        email = super().clean_email()
        config = sso.config_for_email(email)
        if config is not None and config.require_sso:
            raise forms.ValidationError(SSO_REQUIRED_MESSAGE, code="sso_required")
        return email


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=64,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class ConfirmTOTPForm(forms.Form):
    code = forms.CharField(
        label="Code from your app", max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(label="Current password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not correct.")
        return password


class SSOStartForm(forms.Form):
    email = forms.EmailField(label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class SSOConfigForm(forms.ModelForm):
    issuer = forms.URLField(label="Issuer URL", required=False, assume_scheme="https")
    idp_sso_url = forms.URLField(label="IdP single sign-on URL", required=False, assume_scheme="https")
    client_secret = forms.CharField(
        label="Client secret", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored secret.",
    )

    class Meta:
        model = TenantSSOConfig
        fields = [
            "protocol", "email_domain", "issuer", "client_id", "client_secret",
            "idp_entity_id", "idp_sso_url", "idp_x509_cert",
            "default_organization", "default_role", "require_sso", "is_active",
        ]

    def __init__(self, *args: Any, tenant: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_organization"].queryset = Organization.objects.filter(tenant=tenant)
