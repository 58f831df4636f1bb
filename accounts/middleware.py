"""Tenant policy "require 2FA" (Tenant.require_2fa): a member without a second factor
sees no tenant data until they enrol, nor a session of an enrolled member that has not
passed it (made outside the sign-in flow) until it steps up.

The policy holds for every request that acts as a signed-in session user, whatever other
headers it carries: an ``X-API-Key`` (or any ``Authorization``) header next to a session
cookie does not lift it. UI pages are redirected to enrolment; API views (under ``/api/``,
or any DRF view, e.g. the seed systems' surfaces) answer 403 ``MFA_REQUIRED``.

The one request it does not govern is an API call authenticated by an API key instead of
the session: a DRF view whose authenticators put ``ApiKeyAuthentication`` before any
session authenticator, called with a key header. There ``ApiKeyAuthentication`` decides
alone — it authenticates the key's owner or refuses with 401 (a malformed, unknown or empty
key, or an ``Authorization`` header it does not accept); it never falls back to the
session — so the session user is not the caller and their policy is not the one that
applies. (A DRF view none of whose authenticators reads the session never acts for the
session user: the sign-in endpoints, the seed systems' key-only paths, SCIM.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from rest_framework.authentication import SessionAuthentication

from accounts import services
from accounts.mfa import requires_2fa
from accounts.models import User
from accounts.two_factor_views import step_up_url
from apikeys.authentication import ApiKeyAuthentication, presented_key
from orgs.ui import session_barred
from tater.api.errors import ApiError, json_error

# Pages an unenrolled member may still reach: their own account (enrolment, sign-out,
# password, email), static files. Not the tenant's SSO settings and domains.
UI_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/favicon")
UI_TENANT_PREFIXES = ("/accounts/sso/",)
UI_TENANT_EXCEPTIONS = ("/accounts/sso/start/",)  # the sign-in form, not settings
# TigerTrust's /api/auth/ is the same sign-in flow (SPEC §5a): reachable to sign out too.
API_ALLOWED_PREFIXES = ("/api/v1/auth/", "/api/auth/", "/api/v1/health")
API_ALLOWED_PATHS = ("/api/v1/me", "/api/v1/me/")


class Require2FAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        # After URL resolution: which view runs decides who the caller is (see the docstring).
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        path = request.path
        view_class = getattr(view_func, "cls", None)  # set on DRF views (API, seed-system surfaces)
        if path.startswith("/api/") or view_class is not None:
            if path.startswith(API_ALLOWED_PREFIXES) or path in API_ALLOWED_PATHS:
                return None
            if key_authenticated(request, view_func) or _reads_no_session(view_func):
                return None
            blocked = self._blocked(request, user)
            if blocked == "enrol":
                return json_error(
                    request,
                    403,
                    "MFA_REQUIRED",
                    "Your tenant requires two-factor authentication: enrol an authenticator at /accounts/2fa/ first",
                )
            if blocked == "verify":
                return json_error(
                    request,
                    403,
                    "MFA_REQUIRED",
                    "Your tenant requires two-factor authentication: this session has not passed it; "
                    "verify at /accounts/2fa/verify/ first",
                )
        elif not _ui_allowed(path):
            blocked = self._blocked(request, user)
            if blocked == "enrol":
                return HttpResponseRedirect(reverse("accounts_2fa_setup"))
            if blocked == "verify":
                return HttpResponseRedirect(step_up_url(request.get_full_path()))
        return None

    @staticmethod
    def _blocked(request: HttpRequest, user: User) -> str | None:
        """``"enrol"``: no second factor yet; ``"verify"``: one, but this session has not
        passed it (signed in outside the sign-in flow, or before enrolling elsewhere); None.
        A tenant this session may not reach (``orgs.ui.session_barred``: one requiring single
        sign-on it was not signed in through) has nothing here for its policy to guard."""
        verified = getattr(user, "is_verified", None)
        if verified is not None and verified():
            return None
        if not requires_2fa(user) or not requires_2fa(user, excluding=session_barred(request)):
            return None
        return "verify" if services.has_2fa(user) else "enrol"


def _ui_allowed(path: str) -> bool:
    if path.startswith(UI_TENANT_PREFIXES) and not path.startswith(UI_TENANT_EXCEPTIONS):
        return False
    return path.startswith(UI_ALLOWED_PREFIXES)


def _authentication_classes(view_func: Callable[..., Any]) -> list[Any] | None:
    view_class = getattr(view_func, "cls", None)
    if view_class is None:
        return None
    return list(getattr(view_func, "initkwargs", {}).get("authentication_classes", view_class.authentication_classes))


def _reads_no_session(view_func: Callable[..., Any]) -> bool:
    """A DRF view none of whose authenticators reads the session (the sign-in endpoints, the
    seed systems' key-only paths such as Tatry's and taap.it's, SCIM): the session user is
    never its caller, so a request without the view's own credential gets the view's own 401
    (in its system's shape, SPEC §3), not a 2FA refusal meant for a session."""
    classes = _authentication_classes(view_func)
    return classes is not None and not any(
        isinstance(authenticator, type) and issubclass(authenticator, SessionAuthentication)
        for authenticator in classes
    )


def key_authenticated(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
    """Will this API request be authenticated by an API key rather than by the session?

    True only when the request presents a key (or an ``Authorization`` header, which the
    key authenticator either reads as a key or refuses) and the view is a DRF view whose
    first authenticator that can act on it is ``ApiKeyAuthentication``."""
    try:
        presents_key = presented_key(request) is not None  # type: ignore[arg-type]
    except ApiError:
        presents_key = True  # an Authorization header the key authenticator refuses (401)
    if not presents_key:
        return False
    classes = _authentication_classes(view_func)
    if classes is None:
        return False  # not a DRF view: only the session can authenticate it
    for authenticator in classes:
        if isinstance(authenticator, type) and issubclass(authenticator, ApiKeyAuthentication):
            return True
        if isinstance(authenticator, type) and issubclass(authenticator, SessionAuthentication):
            return False
    return False
