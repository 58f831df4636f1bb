"""The Django admin behind a verified second factor (SPEC §10)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.app_settings import app_settings


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

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated and request.user.is_staff:
            # Signed in but not verified: enrol a device, or step up with a code.
            return HttpResponseRedirect(f"{reverse('accounts_2fa_verify')}?{urlencode({'next': next_url})}")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
