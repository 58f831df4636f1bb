from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from accounts import sso
from accounts.models import TenantSSOConfig, User, UserSession


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Email-login users. Unticking "active" ends the user's sessions and kills their keys
    (accounts.receivers)."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "ip", "created_at"]
    search_fields = ["user__email", "ip"]
    exclude = ["session_key"]  # a live session key is a credential
    readonly_fields = ["user", "ip", "user_agent", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class SSOConfigAdminForm(forms.ModelForm):
    issuer = forms.URLField(required=False, assume_scheme="https")
    idp_sso_url = forms.URLField(required=False, assume_scheme="https")
    client_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored secret.")

    class Meta:
        model = TenantSSOConfig
        fields = ["tenant", *sso.EDITABLE]


@admin.register(TenantSSOConfig)
class TenantSSOConfigAdmin(admin.ModelAdmin):
    form = SSOConfigAdminForm
    list_display = ["tenant", "protocol", "email_domain", "default_role", "require_sso", "is_active"]
    search_fields = ["tenant__name", "email_domain"]
    readonly_fields = ["provider_id"]

    def save_model(self, request: HttpRequest, obj: TenantSSOConfig, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in sso.EDITABLE if name in form.cleaned_data}
        # Through the service: validation, the allauth SocialApp and the audit entry.
        saved = sso.sso_config_save(tenant=obj.tenant, actor=None, values=values)
        obj.pk, obj.provider_id = saved.pk, saved.provider_id
