"""The Django admin behind a verified second factor (SPEC §10)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.contrib.admin import AdminSite
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Model
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.http import urlencode

from accounts.app_settings import app_settings

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

# Fields that hold a secret or what stands for one (a session key, a TOTP seed, a token, a
# password hash, a key's digest): the admin never shows them, and never filters on them.
SECRET_FIELDS = frozenset({"password", "session_key", "key", "token", "token_secret", "secret", "client_secret"})


def _is_secret(field: Any) -> bool:
    return not field.is_relation and (field.name in SECRET_FIELDS or field.name.endswith("digest"))


def secret_lookup(model: type[Model], params: Iterable[str]) -> str | None:
    """The first of ``params`` that filters on a secret field of ``model`` (or of a model it
    leads to), else None. Django's changelist accepts a filter on any field of its model in
    the URL: on a hidden secret it is an oracle that reads it one character at a time
    (``?session_key__startswith=a``), to anyone who may merely view the list."""
    for param in params:
        current: Any = model
        for part in param.split(LOOKUP_SEP):
            try:
                field = current._meta.get_field(part)
            except FieldDoesNotExist:
                break
            if _is_secret(field):
                return param
            if not field.is_relation or field.related_model is None:
                break
            current = field.related_model
    return None


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


class TaterAdminSite(AdminSite):
    """Admin access needs staff status *and* a session verified with a TOTP or recovery
    code or a passkey (django-otp's ``is_verified``). Signing in happens on the regular sign-in page,
    so the admin gets the same lockout, audit and second-factor step as everything else."""

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not app_settings.ADMIN_REQUIRES_OTP or _verified(request)

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        """Every model's pages refuse a filter on a secret field (400), whichever ModelAdmin
        (ours, allauth's, django-otp's) serves them."""
        model = getattr(getattr(view, "__self__", None), "model", None)
        if model is None:
            return super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            param = secret_lookup(model, request.GET)
            if param is not None:
                raise DisallowedModelAdminLookup(f"Filtering by {param} not allowed")
            return view(request, *args, **kwargs)

        return cast(View, super().admin_view(update_wrapper(guarded, view), cacheable))

    def get_urls(self) -> list[URLPattern | URLResolver]:
        # First, so it answers instead of Django's own password change (same path and name).
        own = path("password_change/", self.admin_view(self.password_change_elsewhere), name="password_change")
        return [own, *super().get_urls()]

    def password_change_elsewhere(self, request: HttpRequest) -> HttpResponse:
        """The account's own password page (allauth's): its current password is checked as
        sign-in checks one (lockout, ``user.login_failed``), the change is audited and ends the
        other sessions. Django's admin form did none of it."""
        return HttpResponseRedirect(reverse("account_change_password"))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated and request.user.is_staff:
            # Signed in but not verified: enrol a device, or step up with a code.
            return HttpResponseRedirect(f"{reverse('accounts_2fa_verify')}?{urlencode({'next': next_url})}")
        if request.user.is_authenticated:
            # Not an operator. The sign-in page sends a signed-in account back to ``next``,
            # here, which would send it there again: a redirect loop, never a reason.
            raise PermissionDenied(
                f"The admin is for operators only, and {request.user.get_username()} is not an operator "
                "account: sign out and sign in with one to use it"
            )
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
