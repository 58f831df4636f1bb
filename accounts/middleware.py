"""Tenant policy "require 2FA" (Tenant.require_2fa): a member without a second factor
sees no tenant data until they enrol."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts import services
from orgs.models import OrgMembership, TenantMembership
from tater.api.errors import json_error

# Pages an unenrolled member may still reach: enrolment itself, sign-out, static files.
UI_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/favicon")
API_ALLOWED = ("/api/v1/auth/", "/api/v1/me", "/api/v1/health")
SESSION_FLAG = "accounts_2fa_required"


def requires_2fa(user: object) -> bool:
    return (
        TenantMembership.objects.filter(user=user, tenant__require_2fa=True).exists()
        or OrgMembership.objects.filter(user=user, organization__tenant__require_2fa=True).exists()
    )


class Require2FAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _uses_api_key(request):
            return self.get_response(request)
        path = request.path
        if path.startswith("/api/"):
            if not path.startswith(API_ALLOWED) and self._blocked(user):
                return json_error(
                    request, 403, "MFA_REQUIRED",
                    "Your tenant requires two-factor authentication: enrol an authenticator at /accounts/2fa/ first",
                )
        elif not path.startswith(UI_ALLOWED_PREFIXES) and self._blocked(user):
            return HttpResponseRedirect(reverse("accounts_2fa_setup"))
        return self.get_response(request)

    @staticmethod
    def _blocked(user: object) -> bool:
        return not services.has_2fa(user) and requires_2fa(user)


def _uses_api_key(request: HttpRequest) -> bool:
    # A key's holder is authenticated by the key, not by this session: the key rules apply.
    return any(h in request.META for h in ("HTTP_X_API_KEY", "HTTP_X_AGENT_API_KEY", "HTTP_AUTHORIZATION"))
