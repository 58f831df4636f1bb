from __future__ import annotations

from typing import Any, cast

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from allauth.account.forms import AddEmailForm as AllauthAddEmailForm
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context as allauth_context
from django import forms
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from accounts import sso_certificate
from accounts.models import TenantSSOConfig
from orgs.email_owners import address_holders, held_by_another
from orgs.models import Organization
from tater import lockout
from tater.client_ip import client_ip
from tater.emails import nfkc
from tater.exceptions import DomainError
from tater.shown_values import changed_on_page, post_values_shown


class NFKCEmailMixin:
    """Reads the typed email fields in NFKC before validation (SPEC §8: addresses are
    compared after NFKC normalisation), so ``ｏwner@…`` (fullwidth) is the address
    ``owner@…`` rather than an invalid one; accounts.adapter then finds the one account
    every spelling names."""

    email_fields: tuple[str, ...] = ("email",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            args = (self._nfkc(args[0]), *args[1:])
        elif kwargs.get("data") is not None:
            kwargs["data"] = self._nfkc(kwargs["data"])
        super().__init__(*args, **kwargs)

    def _nfkc(self, data: Any) -> Any:
        if data is None or not any(name in data for name in self.email_fields):
            return data
        data = data.copy()
        for name in self.email_fields:
            if isinstance(data.get(name), str):
                data[name] = nfkc(data[name])
        return data


class LoginForm(NFKCEmailMixin, AllauthLoginForm):
    email_fields = ("login",)


class ResetPasswordForm(NFKCEmailMixin, AllauthResetPasswordForm):
    pass


class SignupForm(NFKCEmailMixin, AllauthSignupForm):
    """allauth's sign-up, refusing emails of a verified domain whose tenant requires SSO
    (those users get their account from their identity provider)."""

    def clean_email(self) -> str:
        from accounts import sso
        from accounts.adapter import SSO_REQUIRED_MESSAGE

        email = super().clean_email()
        if sso.sso_required(email=email, user=None) is not None:
            raise forms.ValidationError(SSO_REQUIRED_MESSAGE, code="sso_required")
        if not getattr(self, "account_already_exists", False) and address_holders(email):
            # Another account holds it under another spelling (``straße@`` / ``strasse@``):
            # answered as allauth answers for the spelling it holds (orgs.email_owners).
            if (
                allauth_settings.PREVENT_ENUMERATION
                and allauth_settings.EMAIL_VERIFICATION == allauth_settings.EmailVerificationMethod.MANDATORY
            ):
                self.account_already_exists = True
            else:
                raise get_adapter().validation_error("email_taken")
        return email


class AddEmailForm(NFKCEmailMixin, AllauthAddEmailForm):
    """allauth's add-email form, refusing an address another account holds under any
    spelling (allauth compares lower-cased addresses only), with allauth's "taken" message,
    and one this account already holds under another spelling as allauth's duplicate."""

    def clean_email(self) -> str:
        typed = self.cleaned_data["email"]
        adapter = get_adapter()
        holders = address_holders(typed)
        if held_by_another(typed, self.user):
            raise adapter.validation_error("email_taken")
        if self.user is not None and self.user.pk in holders:
            raise adapter.validation_error("duplicate_email")
        return str(super().clean_email())


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=64,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class ConfirmTOTPForm(forms.Form):
    code = forms.CharField(
        label="Code from your app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    # Which QR code the page showed (``accounts.services.totp_enrolment_shown``): the code
    # confirms that enrolment only, never one another tab started since.
    shown = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)


def password_confirmed(request: HttpRequest, user: Any, password: str) -> bool:
    """Whether ``password`` is the signed-in ``user``'s, asked again by a page (turning off
    2FA, changing the password): a password check like the sign-in's (SPEC §6). While the
    account's password sign-in (or the address) is locked, none is checked: 429 ``LOCKED_OUT``
    (the pages answer their lockout page, ``accounts.views.form_rate_limited``). A wrong one is
    a failed sign-in: audited (``user.login_failed``) and counted against the account."""
    lockout.check_account(user.email)
    if user.check_password(password):
        return True
    user_login_failed.send(sender=__name__, credentials={"email": user.email, "method": "password"}, request=request)
    lockout.register_failure(ip=client_ip(request), kind="password", account=user.email)
    return False


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Current password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args: Any, user: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not password_confirmed(self.request, self.user, password):
            raise forms.ValidationError("That password is not correct.")
        return password


class ChangePasswordForm(AllauthChangePasswordForm):
    """allauth's password change, its current password checked as the sign-in checks one."""

    def clean_oldpassword(self) -> str:
        old = str(self.cleaned_data.get("oldpassword", ""))
        if not password_confirmed(allauth_context.request, self.user, old):
            raise get_adapter().validation_error("enter_current_password")
        return old


class SSOStartForm(NFKCEmailMixin, forms.Form):
    email = forms.EmailField(label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))


def add_service_error(form: forms.BaseForm, exc: DomainError) -> None:
    """A service's refusal on the SSO settings forms: each field it names gets its own error
    beside it (several missing fields at once), else the message above the form."""
    fields = exc.details.get("fields") or {exc.field: [exc.message]}
    for name, errors in fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


def forget_private_key(form: forms.BaseForm) -> None:
    """A private key posted as the signing certificate is not rendered back (page or admin)."""
    name = form.add_prefix(sso_certificate.FIELD)
    if sso_certificate.is_private_key(str(form.data.get(name) or "")):
        form.data = {**form.data, name: ""}


class CertificateTextField(forms.CharField):
    """The signing certificate box: read as stored (``sso_certificate.normalise``), so the value
    the page showed, posted back by a browser with CRLF line breaks, is the stored one."""

    def to_python(self, value: Any) -> str:
        return sso_certificate.normalise(str(super().to_python(value)))


class SSOCertificateField:
    """The signing certificate field of the SSO settings forms (the owner's page, the admin)."""

    cleaned_data: dict[str, Any]
    instance: TenantSSOConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form = cast(forms.BaseForm, self)
        if sso_certificate.is_private_key(self.instance.idp_x509_cert or ""):
            # One stored before the check was refused (a secret is never sent back into a page):
            # the box shows empty, and so does the value-shown twin, so an empty box keeps it.
            form.initial[sso_certificate.FIELD] = ""
            initial_name = form.add_initial_prefix(sso_certificate.FIELD)
            if form.is_bound and sso_certificate.is_private_key(str(form.data.get(initial_name) or "")):
                form.data = {**form.data, initial_name: ""}

    def saved_values(self, fields: Any) -> dict[str, Any]:
        """The saved settings as the page shows them, to tell what changed since: a stored private
        key as the empty box (never put into a "changed meanwhile" refusal either)."""
        values = {name: getattr(self.instance, name) for name in fields}
        if sso_certificate.is_private_key(str(values.get(sso_certificate.FIELD) or "")):
            values[sso_certificate.FIELD] = ""
        return values

    def clean_idp_x509_cert(self) -> str:
        """The service's certificate check (accounts.sso_certificate), beside the field with
        the other errors; a private key is not sent back into the page."""
        value = sso_certificate.normalise(str(self.cleaned_data.get("idp_x509_cert") or ""))
        stored = self.instance.idp_x509_cert if self.instance.pk else ""
        refused = sso_certificate.problem(value, saml=self.cleaned_data.get("protocol") == "saml", stored=stored)
        if refused is not None:
            forget_private_key(cast(forms.BaseForm, self))
            raise forms.ValidationError(refused)
        return value


class SSOConfigForm(SSOCertificateField, forms.ModelForm):
    issuer = forms.URLField(label="Issuer URL", required=False, assume_scheme="https")
    idp_sso_url = forms.URLField(label="IdP single sign-on URL", required=False, assume_scheme="https")
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored secret.",
    )

    class Meta:
        model = TenantSSOConfig
        fields = list(TenantSSOConfig.EDITABLE)
        field_classes = {sso_certificate.FIELD: CertificateTextField}
        labels = {  # the models' verbose names read "Idp x509 cert", "Require sso"
            "client_id": "Client ID",
            "idp_entity_id": "IdP entity ID",
            "idp_x509_cert": "IdP signing certificate",
            "require_sso": "Require SSO",
            "is_active": "Single sign-on enabled",
        }
        help_texts = {  # s39: the requirement bars sessions too, and never the session switching it on
            "protocol": "What your identity provider speaks. Only the fields of this protocol are used.",
            "idp_x509_cert": "The certificate your IdP signs assertions with: PEM "
            "(-----BEGIN CERTIFICATE----- …) or its base64 body, as in the IdP's metadata.",
            "require_sso": "Members in the tenant's verified domains sign in through this identity provider "
            "only: password sign-in is refused, and a session signed in otherwise (a password, another "
            "tenant's identity provider) no longer reaches this tenant. If your own address is in one of "
            "these domains, sign in through this identity provider before switching it on.",
        }

    def __init__(self, *args: Any, tenant: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["default_organization"]).queryset = Organization.objects.filter(
            tenant=tenant
        )
        # A save changes only what was changed on the page (an old tab must not turn "Require
        # SSO" back off). Never the secret: it is not rendered, and an empty one keeps the stored one.
        post_values_shown(self, exclude=("client_secret",))

    def changeable(self) -> list[str]:
        """The settings posted with the value the page showed (all but the secret)."""
        return [name for name in self.fields if name != "client_secret"]

    def changes(self) -> dict[str, Any]:
        """The settings changed on the page (cleaned), by field name; a typed secret counts."""
        changed = {name: value for name, value in changed_on_page(self).items() if name != "client_secret"}
        if self.cleaned_data.get("client_secret"):
            changed["client_secret"] = self.cleaned_data["client_secret"]
        return changed


class DomainForm(forms.Form):
    domain = forms.CharField(
        label="Email domain",
        max_length=300,
        help_text="The domain of your users’ email addresses, e.g. example.com. You prove you control it with a DNS TXT record.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "example.com"}),
    )
