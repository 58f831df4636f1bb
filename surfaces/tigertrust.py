"""TigerTrust's sign-in API (SPEC §5a; docs/migrating-from-tigertrust.md).

- ``POST /api/auth/login`` ``{email, password}`` → a session cookie, or ``{"requires2FA":
  true, "token": ...}``; ``POST /api/auth/verify-2fa`` ``{token, code}``; ``POST
  /api/auth/logout``: the core's JSON sign-in (``/api/v1/auth/*``), same rate limits,
  lockout, SSO and 2FA rules, CSRF on logout.
- ``GET /api/auth/google`` and ``GET /api/auth/google/callback``: into allauth's Google
  sign-in (a redirect) when a Google application is configured; a JSON 404 when not.

Errors keep the catalog's shape, which TigerTrust shares (``{"error": CODE, "message"}``),
with TigerTrust's codes: ``TOKEN_EXPIRED`` for an expired key, ``FORBIDDEN`` for a refusal
TigerTrust has no code of its own for, ``UNAUTHORIZED`` for any failed credential; then
``details.tater_error`` names the catalog code.
"""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from django.core.exceptions import MultipleObjectsReturned
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from accounts.api import views as account_views
from surfaces.envelope import CatalogError, Envelope, SurfaceView
from tater.api.errors import ServiceUnavailable, error_body, json_error, status_error

# TigerTrust's documented error codes, and the catalog codes it names differently.
TIGERTRUST_CODES = frozenset({"UNAUTHORIZED", "TOKEN_EXPIRED", "KEY_REVOKED", "FORBIDDEN", "WORKSPACE_ACCESS_DENIED"})
RENAMED = {"KEY_EXPIRED": "TOKEN_EXPIRED", "PERMISSION_DENIED": "FORBIDDEN"}
FOLDED = {401: "UNAUTHORIZED", 403: "FORBIDDEN"}


class TigerTrustEnvelope(Envelope):
    def error(self, error: CatalogError) -> Any:
        code = RENAMED.get(error.code, error.code)
        if code not in TIGERTRUST_CODES and error.status in FOLDED:
            code = FOLDED[error.status]
        details = dict(error.details)
        if code != error.code:
            details["tater_error"] = error.code
        return error_body(code, error.message, details or None, error.request_id)


class LoginView(SurfaceView, account_views.LoginView):
    envelope = TigerTrustEnvelope()


class VerifyTwoFactorView(SurfaceView, account_views.VerifyTwoFactorView):
    envelope = TigerTrustEnvelope()


class LogoutView(SurfaceView, account_views.LogoutView):
    envelope = TigerTrustEnvelope()


SEVERAL_GOOGLE_APPS = (
    "Google sign-in is unavailable: several Google applications are configured and none can be chosen. "
    "An operator must delete the extra ones or mark them hidden (manage.py check names them: accounts.W002)"
)


def google_configured(request: HttpRequest) -> bool:
    """Whether one Google application is configured; several visible ones raise
    ``MultipleObjectsReturned`` (allauth cannot choose)."""
    try:
        get_adapter(request).get_app(request, provider="google")
    except SocialApp.DoesNotExist:
        return False
    return True


def _into_allauth(request: HttpRequest, url_name: str) -> HttpResponse:
    try:
        configured = google_configured(request)
    except MultipleObjectsReturned:
        # A misconfiguration the caller cannot fix: a 503 saying so, never a 500 (SPEC §3).
        return json_error(request, 503, ServiceUnavailable.code, SEVERAL_GOOGLE_APPS)
    if not configured:
        return status_error(request, 404)
    target = reverse(url_name)
    query = request.META.get("QUERY_STRING", "")
    # allauth's own views take it from here (state, PKCE, the next URL's checks).
    return HttpResponseRedirect(f"{target}?{query}" if query else target)


# Exempt from Django's CSRF check, which runs before require_safe: another method is a 405, not a
# 403 "CSRF Failed" (SPEC §3). Nothing but GET and HEAD reaches the view, and it only redirects.
@csrf_exempt
@require_safe
def google_login(request: HttpRequest) -> HttpResponse:
    return _into_allauth(request, "google_login")


@csrf_exempt
@require_safe
def google_callback(request: HttpRequest) -> HttpResponse:
    return _into_allauth(request, "google_callback")


urlpatterns = [
    path("api/auth/login", LoginView.as_view(), name="tigertrust-login"),
    path("api/auth/verify-2fa", VerifyTwoFactorView.as_view(), name="tigertrust-verify-2fa"),
    path("api/auth/logout", LogoutView.as_view(), name="tigertrust-logout"),
    path("api/auth/google", google_login, name="tigertrust-google"),
    path("api/auth/google/callback", google_callback, name="tigertrust-google-callback"),
]
