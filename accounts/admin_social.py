"""allauth's sign-in apps and linked SSO identities in the admin, audited (channel ``admin``).

allauth registers plain admins for them: an operator could add "Sign in with Google", change
a tenant's identity provider app behind its SSO configuration, link any provider subject to
any account or read the client secrets, and nothing was recorded. Here:

- Sign-in apps (Google, Microsoft): add, change and delete are audited (``sso_app.*``,
  platform-wide: no tenant); the secret and key are never shown (an empty field keeps them)
  and are recorded only as "changed". A tenant's own app (``tenant-…``) is changed only
  through its SSO configuration (accounts.sso), so it is read-only here, its settings shown
  without a private key stored as its IdP certificate (before that was refused); nor may an app
  added or changed here take a provider id of that kind (it would answer the sign-ins routed
  to a tenant's identity provider).
- Linked identities: read-only; an operator may unlink one (``user.sso_unlinked``, filed
  under the person's home tenant), never link one by hand (SPEC §8: an identity is linked by
  its sign-in or by the account's owner).
- OAuth tokens are not stored (``SOCIALACCOUNT_STORE_TOKENS = False``): no page for them.
"""

from __future__ import annotations

import json
from typing import Any

from allauth.socialaccount import admin as social_admin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import sso, sso_certificate
from audit import registry as A
from audit.services import audit_record

AUDITED_FIELDS = ("provider", "provider_id", "name", "client_id", "settings")
SECRET_FIELDS = ("secret", "key")


def _tenant_app(app: SocialApp | None) -> bool:
    return app is not None and app.provider_id.startswith(sso.PROVIDER_ID_PREFIX)


def _values(app: SocialApp | None) -> dict[str, Any]:
    return {name: getattr(app, name) if app is not None else None for name in (*AUDITED_FIELDS, *SECRET_FIELDS)}


def _without_private_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _without_private_keys(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_without_private_keys(item) for item in value]
    if isinstance(value, str) and sso_certificate.is_private_key(value):
        return "(a private key, not shown: the tenant's owner replaces it with the IdP's certificate)"
    return value


class SocialAppForm(social_admin.SocialAppForm):
    secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored one."
    )
    key = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored one."
    )

    def clean_provider_id(self) -> str:
        provider_id = str(self.cleaned_data.get("provider_id") or "")
        if provider_id.casefold().startswith(sso.PROVIDER_ID_PREFIX) or sso.is_tenant_provider(provider_id):
            raise forms.ValidationError(
                f"Provider ids starting “{sso.PROVIDER_ID_PREFIX}” are reserved for a tenant's own identity "
                "provider, which is set up through that tenant's SSO configuration.",
                code="reserved",
            )
        return provider_id

    def clean_secret(self) -> str:
        return self.cleaned_data.get("secret") or (self.instance.secret if self.instance.pk else "")

    def clean_key(self) -> str:
        return self.cleaned_data.get("key") or (self.instance.key if self.instance.pk else "")


class SocialAppAdmin(social_admin.SocialAppAdmin):
    form = SocialAppForm

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        # A read-only page shows every field's value: never a secret.
        return (*SECRET_FIELDS, "settings") if _tenant_app(obj) else super().get_exclude(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "tenant_app_settings") if _tenant_app(obj) else fields

    @admin.display(description="Settings")
    def tenant_app_settings(self, obj: SocialApp) -> str:
        """A tenant app's settings, from its SSO configuration: a private key pasted as the
        IdP's certificate before that was refused is still stored there until the owner
        replaces it, and is never sent into a page (as on the owner's and the config's pages)."""
        return json.dumps(_without_private_keys(obj.settings))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _tenant_app(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _tenant_app(obj) and super().has_delete_permission(request, obj)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: SocialApp, form: Any, change: bool) -> None:
        before = _values(SocialApp.objects.filter(pk=obj.pk).first() if change else None)
        super().save_model(request, obj, form, change)
        after = _values(obj)
        changes: dict[str, Any] = {
            name: {"from": before[name], "to": after[name]} for name in AUDITED_FIELDS if before[name] != after[name]
        }
        changes.update({f"{name}_changed": True for name in SECRET_FIELDS if (before[name] or "") != after[name]})
        if change and not changes:
            return
        action = A.SSO_APP_UPDATED if change else A.SSO_APP_CREATED
        audit_record(action=action, tenant=None, target=obj, changes=changes, actor_user=request.user)

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: SocialApp) -> None:
        changes = {"provider": obj.provider, "provider_id": obj.provider_id, "client_id": obj.client_id}
        audit_record(action=A.SSO_APP_DELETED, tenant=None, target=obj, changes=changes, actor_user=request.user)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SocialApp]) -> None:
        for app in queryset:
            if not _tenant_app(app):
                self.delete_model(request, app)


class SocialAccountAdmin(social_admin.SocialAccountAdmin):
    readonly_fields = ("user", "provider", "uid", "last_login", "date_joined", "extra_data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: SocialAccount) -> None:
        sso.identity_unlinked(link=obj, actor=request.user)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SocialAccount]) -> None:
        for link in queryset.select_related("user"):
            self.delete_model(request, link)


def register() -> None:
    for model, model_admin in ((SocialApp, SocialAppAdmin), (SocialAccount, SocialAccountAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
    if admin.site.is_registered(SocialToken):
        admin.site.unregister(SocialToken)
