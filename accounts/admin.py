from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import admin_social, domains, mfa, services, sso, sso_certificate
from accounts.forms import CertificateTextField, SSOCertificateField, add_service_error
from accounts.models import TenantDomain, TenantSSOConfig, User, UserSession
from apikeys.models import ApiKey
from audit import registry as A
from orgs.admin import TenantsToldApart, last_owners_kept
from orgs.email_owners import held_by_another
from orgs.models import TenantMembership
from tater.exceptions import InvalidInput
from tater.shown_values import ShownValuesForm


def _with_permissions(obj: Any, field: str) -> Any:
    """``obj`` with its ``field`` permissions read at once, with their content types: shown
    read-only (to staff who are not superusers), each is written out as "app | model | name",
    a query apiece for its content type otherwise."""
    if obj is not None:
        permissions = Permission.objects.select_related("content_type")
        prefetch_related_objects([obj], Prefetch(field, queryset=permissions))
    return obj


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, QuerySet | list | tuple | set):
        return sorted(str(item) for item in value)
    return str(value)


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "set password" form, audited in the same transaction (never the value)."""

    @transaction.atomic
    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=False)
        if commit:
            # The password only (accounts.adapter.AccountAdapter.set_password says why).
            user.save(update_fields=["password"])
            services.user_password_set_by_operator(user=user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Email-login users. Unticking "active" ends the user's sessions and kills their keys
    (accounts.receivers); setting a password ends them too. Every save, password set and
    deletion here is audited (channel ``admin``): an operator granting staff or superuser,
    or changing the address a password reset goes to, is exactly what the log is for. Only
    superusers change who is staff or superuser and their permissions, and only they change
    or delete a superuser's or another operator's account (its password, its email)."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "first_name", "last_name", "=public_id"]
    readonly_fields = ["public_id"]  # the id the API shows (usr-...)
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    change_password_form = AuditedPasswordChangeForm
    # Never in an audit entry: the hash, or the new password on the add form.
    _UNAUDITED_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})

    # Who is an operator, and with which powers, is a superuser's decision: a staff
    # operator allowed to change users must not make themselves (or anyone) superuser.
    _SUPERUSER_ONLY_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not getattr(request.user, "is_superuser", False):
            fields += [name for name in self._SUPERUSER_ONLY_FIELDS if name not in fields]
        return fields

    @staticmethod
    def _another_operator(request: HttpRequest, obj: Any) -> bool:
        """Is ``obj`` an operator account a non-superuser must not change or delete? Setting
        a superuser's (or another operator's) password or email is taking over their powers:
        the same escalation as ticking "superuser". A staff operator's own account stays theirs."""
        if obj is None or getattr(request.user, "is_superuser", False):
            return False
        return bool(obj.is_superuser or (obj.is_staff and obj.pk != request.user.pk))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        return _with_permissions(super().get_object(request, object_id, from_field), "user_permissions")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also the password page (Django checks this permission there) and list_editable.
        return not self._another_operator(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also the bulk "delete selected" action (it checks each selected object).
        return not self._another_operator(request, obj) and super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        response = super().user_change_password(request, id, form_url)
        if (
            request.method == "POST"
            and str(request.user.pk) == str(id)
            and not UserSession.objects.filter(session_key=request.session.session_key).exists()
        ):
            # Operators who set their own password stay signed in (Django keeps the session,
            # under a new key): track it again, so "sign out everywhere" still ends it.
            services.session_started(request=request, user=request.user)
        return response

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change:
            services.user_write_ahead(user=obj)  # the lock order: accounts.signals.account_write_ahead
        super().save_model(request, obj, form, change)
        changes = {
            name: {"from": _plain(form.initial.get(name)), "to": _plain(form.cleaned_data.get(name))}
            for name in form.changed_data
            if name not in self._UNAUDITED_FIELDS
        }
        if change and not changes:
            return
        services.user_saved_by_operator(user=obj, created=not change, changes=changes)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], list[Any]]:
        """An account that ever held an API key is kept: keys are never deleted (the audit log
        names them; the admin only revokes them). Django's page would ask for a "permission to
        delete API keys" that nobody has; it says why instead, and what to do."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if ApiKey._meta.verbose_name in perms_needed:
            perms_needed.discard(str(ApiKey._meta.verbose_name))
            held = ApiKey.objects.filter(owner__in=objs).count()
            protected = [
                f"{held} API key{'s' if held != 1 else ''}. API keys are never deleted: the audit log "
                "names them. Deactivate the account instead (untick “Active” on its page): its "
                "sessions end and its keys stop working at once.",
                *protected,
            ]
        leaving = TenantMembership.objects.filter(user__in=[user.pk for user in objs])
        return last_owners_kept(request, leaving, (deleted, counts, perms_needed, protected))

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_deleted_by_operator(user=obj)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The selected accounts go together or not at all, one after another in a stable order."""
        for user in queryset.order_by("pk"):
            self.delete_model(request, user)


class OperatorGroupAdmin(DjangoGroupAdmin):
    """A group's permissions are its members' permissions: only superusers change them (a
    staff operator with "change group" would otherwise grant their own group everything)."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        return _with_permissions(super().get_object(request, object_id, from_field), "permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not getattr(request.user, "is_superuser", False) and "permissions" not in fields:
            fields.append("permissions")
        return fields

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # the permissions are saved here
        changes = {
            name: {"from": _group_field(form.initial.get(name)), "to": _group_field(form.cleaned_data.get(name))}
            for name in form.changed_data
        }
        if change and not changes:
            return
        action = A.OPERATOR_GROUP_UPDATED if change else A.OPERATOR_GROUP_CREATED
        services.operator_group_changed(group=form.instance, action=action, changes=changes)

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        changes = {"name": {"from": obj.name}, "permissions": {"from": _group_field(obj.permissions.all())}}
        services.operator_group_changed(group=obj, action=A.OPERATOR_GROUP_DELETED, changes=changes)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for group in queryset:
            self.delete_model(request, group)


def _group_field(value: Any) -> Any:
    """A group form's value as the log shows it: permissions as ``app_label.codename``."""
    if isinstance(value, QuerySet | list | tuple | set):
        pks = [item.pk for item in value]
        permissions = Permission.objects.filter(pk__in=pks).select_related("content_type")  # one query
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions)
    return _plain(value)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, OperatorGroupAdmin)


class EmailAddressAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = data.get("user")
        if data.get("email") and user is not None and held_by_another(data["email"], user):
            # Another account holds it under some spelling (orgs.email_owners).
            self.add_error("email", get_adapter().error_messages["email_taken"])
        return data


class AuditedEmailAddressAdmin(EmailAddressAdmin):
    """allauth's page for accounts' addresses, audited (``user.email_changed``, channel admin):
    an address decides sign-in, password reset, SSO routing and which invitations the account
    may accept. Another operator's addresses are the superusers' to change, as their email.
    An address another account holds under any spelling is refused."""

    form = EmailAddressAdminForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        mine = obj is None or not UserAdmin._another_operator(request, obj.user)
        return mine and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        mine = obj is None or not UserAdmin._another_operator(request, obj.user)
        return mine and super().has_delete_permission(request, obj)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if UserAdmin._another_operator(request, obj.user):  # an address added to their account
            raise PermissionDenied("Only superusers change another operator's addresses")
        super().save_model(request, obj, form, change)
        changes = {
            name: {"from": _plain(form.initial.get(name)), "to": _plain(form.cleaned_data.get(name))}
            for name in form.changed_data
        }
        if changes or not change:
            services.email_address_changed(user=obj.user, changes={"address": obj.email, **changes})

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.email_address_changed(user=obj.user, changes={"removed": obj.email})
        super().delete_model(request, obj)

    @admin.action(description=EmailAddressAdmin.make_verified.short_description, permissions=["change"])
    @transaction.atomic
    def make_verified(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # allauth's action, in one transaction with the entries its signal writes (Django runs
        # admin actions outside the transaction it gives the change and delete pages). A change:
        # only for those who may change addresses, and not another operator's (as its page).
        theirs = [a for a in queryset.select_related("user") if UserAdmin._another_operator(request, a.user)]
        for address in theirs:
            self.message_user(
                request, f"Not verified: {address.email} belongs to another operator (superusers only).", messages.ERROR
            )
        super().make_verified(request, queryset.exclude(pk__in=[a.pk for a in theirs]))

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for address in queryset.select_related("user"):
            services.email_address_changed(user=address.user, changes={"removed": address.email})
        super().delete_queryset(request, queryset)


if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)
admin.site.register(EmailAddress, AuditedEmailAddressAdmin)


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "ip", "created_at"]
    search_fields = ["user__email", "ip"]
    exclude = ["session_key"]  # a live session key is a credential
    readonly_fields = ["user", "ip", "user_agent", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: UserSession | None = None) -> bool:
        # Deleting signs the browser out: as with their accounts, another operator's sessions
        # are the superusers' to end (also the bulk action: it checks each selected object).
        if obj is not None and UserAdmin._another_operator(request, obj.user):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: UserSession) -> None:
        # Deleting the row alone would leave the browser signed in, and no longer findable by
        # "sign out everywhere" or deactivation.
        services.session_ended_by_operator(tracked=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> None:
        for tracked in queryset.select_related("user"):
            self.delete_model(request, tracked)


class SSOConfigAdminForm(SSOCertificateField, ShownValuesForm):
    # As on the owner's SSO settings page: a change saves only what was changed on the page, so a
    # page opened before the owner required SSO does not turn it back off; never the secret, which
    # is not rendered.
    not_shown = ("client_secret",)

    issuer = forms.URLField(required=False, assume_scheme="https")
    idp_sso_url = forms.URLField(required=False, assume_scheme="https")
    client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored secret.",
    )

    class Meta:
        model = TenantSSOConfig
        fields = ["tenant", *sso.EDITABLE]
        field_classes = {sso_certificate.FIELD: CertificateTextField}

    def changes(self) -> dict[str, Any]:
        """The settings to save: all of a new configuration's; of a change, those changed on
        the page (a typed secret counts, an empty one keeps the stored one)."""
        if self.instance.pk is None:
            return {name: self.cleaned_data[name] for name in sso.EDITABLE if name in self.cleaned_data}
        changed = {n: self.cleaned_data[n] for n in self.changed_data if n in sso.EDITABLE and n != "client_secret"}
        if self.cleaned_data.get("client_secret"):
            changed["client_secret"] = self.cleaned_data["client_secret"]
        return changed

    def clean(self) -> dict[str, Any]:
        # The service's own checks (save_model goes through it), shown beside the field
        # rather than raised from save_model as a 500.
        cleaned = super().clean() or {}
        tenant = cleaned.get("tenant") or (self.instance.tenant if self.instance.tenant_id else None)
        # One the owner changed since the page was opened is refused, naming it (saving again
        # replaces it).
        self.refuse_stale(name for name in self.fields if name in sso.EDITABLE and name not in self.not_shown)
        if tenant is not None and not self.errors:
            # What the save will hold: the saved settings, with those changed on the page.
            values = {**{name: getattr(self.instance, name) for name in sso.EDITABLE}, **self.changes()}
            try:
                sso.validate_config(TenantSSOConfig(tenant=tenant, **values))
            except InvalidInput as exc:
                add_service_error(self, exc)
        return cleaned


@admin.register(TenantSSOConfig)
class TenantSSOConfigAdmin(TenantsToldApart):
    form = SSOConfigAdminForm
    list_display = ["tenant", "protocol", "default_role", "require_sso", "is_active"]
    search_fields = ["tenant__name", "tenant__sso_domains__domain"]
    readonly_fields = ["provider_id", "signing_certificate"]

    @admin.display(description="Saved signing certificate")
    def signing_certificate(self, obj: TenantSSOConfig) -> str:
        """As on the owner's page: SAML sign-ins fail once the IdP replaces its expired key."""
        if sso_certificate.is_private_key(obj.idp_x509_cert or ""):  # as the owner's page says it
            return (
                "A private key is saved here (not shown), stored before the check refused it: it belongs "
                "with the identity provider alone. Have the IdP replace it and paste its signing certificate "
                "(until then every SAML sign-in fails)."
            )
        cert = sso_certificate.describe(obj.idp_x509_cert) if obj.protocol == "saml" else None
        if cert is None:
            return "Cannot be read as a certificate" if obj.protocol == "saml" and obj.pk else "-"
        warning = (
            "EXPIRED: sign-ins fail once the IdP signs with its new key. "
            if cert.expired
            else "Expires soon: "
            if cert.expires_soon
            else ""
        )
        return f"{warning}{cert.subject}, {'expired' if cert.expired else 'expires'} {cert.expires:%Y-%m-%d} (UTC)"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A configuration is its tenant's: another tenant in the form would overwrite that
        # tenant's configuration and leave this one as it was.
        return [*super().get_readonly_fields(request, obj), *(["tenant"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: TenantSSOConfig, form: Any, change: bool) -> None:
        # Through the service: validation, the allauth SocialApp and the audit entry.
        saved = sso.sso_config_save(tenant=obj.tenant, actor=None, values=form.changes())
        obj.pk, obj.provider_id = saved.pk, saved.provider_id

    def delete_model(self, request: HttpRequest, obj: TenantSSOConfig) -> None:
        sso.sso_config_delete(config=obj, actor=None)  # audited, and its SocialApp goes too

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TenantSSOConfig]) -> None:
        for config in queryset.select_related("tenant"):
            sso.sso_config_delete(config=config, actor=None)


@admin.register(TenantDomain)
class TenantDomainAdmin(admin.ModelAdmin):
    """Read-only: a domain is verified only by its tenant owner's DNS record. Operators may
    remove a claim (e.g. a domain that changed hands), through the audited service."""

    list_display = ["domain", "tenant", "verified_at", "created_at"]
    list_filter = ["verified_at"]
    search_fields = ["domain", "tenant__name"]
    fields = readonly_fields = ("tenant", "domain", "verified_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TenantDomain) -> None:
        domains.domain_remove(tenant_domain=obj, actor=None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TenantDomain]) -> None:
        for claim in queryset.select_related("tenant"):
            domains.domain_remove(tenant_domain=claim, actor=None)


class SecondFactorDeviceAdmin(admin.ModelAdmin):
    """django-otp's own admins show and edit each device's secret (the TOTP seed, its QR
    code, static codes in clear): whoever reads them can produce the user's codes. These
    show who has which factor (passkeys included) and let an operator delete a lost one
    (audited; the user enrols again; another operator's: superusers only), never the secret;
    devices are created only by enrolment."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__email", "name"]
    list_select_related = ["user"]
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removing a superuser's (or another operator's) factor leaves their account to its
        # password alone, who then enrols one of their own: as with their sessions, the
        # superusers' to do (also the bulk action: it checks each selected object).
        if obj is not None and UserAdmin._another_operator(request, obj.user):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        # The account's sessions end with it, but the operator's own (their own lost factor).
        removed = obj.persistent_id  # before the delete clears its pk
        mfa.mfa_device_remove(device=obj, keep=request.session.session_key)
        mfa.session_keeps_verification(request, removed=removed)  # their own, another factor left

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for device in queryset.select_related("user"):
            self.delete_model(request, device)


for _model in (TOTPDevice, WebAuthnCredential):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, SecondFactorDeviceAdmin)

admin_social.register()  # allauth's sign-in apps and linked identities, audited
