"""Sign-in pages and the guards every account page shares: allauth's sign-in and
re-authentication wrapped with a per-IP form rate limit and the lockout page (the 429 page
is also Django's ``handler429``), email-first SSO routing on the sign-in form, and the
"signed in recently" check security changes require.

The other account pages: ``two_factor_views`` (2FA codes and passkeys), ``enrolment_views``
(turning 2FA on and off), ``security_views`` (the security page) and ``sso_views`` (a tenant's
single sign-on settings)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account import app_settings as allauth_account_settings
from allauth.account import views as allauth_views
from allauth.account.internal.flows.login import get_authentication_records
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_ratelimit.core import is_ratelimited

from accounts import services, sso
from accounts.app_settings import app_settings
from accounts.forms import ChangePasswordForm, LoginForm
from orgs import email_owners
from tater import lockout
from tater.api.errors import ApiError
from tater.client_ip import client_ip
from tater.emails import normalize_email
from tater.operations.metrics import REFUSAL_CODE_ATTR

View = Callable[..., HttpResponse]


def ip_rate_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key for the account forms: the client address, counted as the
    lockout counts it (an IPv6 client per /64, one it controls whole)."""
    return lockout.client_bucket(client_ip(request))


def too_many_requests(
    request: HttpRequest,
    exception: Exception | None = None,
    *,
    retry_after: str | None = None,
    locked: bool = False,
    busy: bool = False,
) -> HttpResponse:
    """The 429 page (also allauth's handler429 through tater.urls). ``busy``: another
    sign-in to the account was being checked (``tater.lockout.SignInBusy``), not a lockout."""
    context = {"locked": locked, "busy": busy, "retry_after": retry_after}
    response = render(request, "accounts/429.html", context, status=429)
    response["Retry-After"] = retry_after or "60"
    # Counted as the API counts the same refusal (a busy account is LOCKED_OUT there too).
    setattr(response, REFUSAL_CODE_ATTR, "LOCKED_OUT" if locked or busy else "RATE_LIMITED")
    return response


def form_rate_limited(group: str) -> Callable[[View], View]:
    """Per-IP django-ratelimit on a form's POSTs, and the lockout page when tater.lockout
    refuses the attempt (it raises the API's LOCKED_OUT error)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST" and is_ratelimited(
                request,
                group=f"accounts.{group}",
                key=ip_rate_key,
                rate=app_settings.AUTH_FORM_RATE,
                method="POST",
                increment=True,
            ):
                return too_many_requests(request)
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                if exc.status_code != 429:
                    raise
                return too_many_requests(
                    request,
                    retry_after=exc.headers.get("Retry-After"),
                    locked=exc.code == "LOCKED_OUT",
                    busy=isinstance(exc, lockout.SignInBusy),
                )

        return wrapped

    return decorator


class LoginView(allauth_views.LoginView):
    """allauth's sign-in, plus email-first routing: "Continue with SSO" (or an email for
    which SSO is required) goes to the identity provider of the tenant that verified the
    email's domain."""

    form_class = LoginForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = normalize_email(request.POST.get("login") or request.POST.get("email"))
        if "sso" in request.POST:
            config = sso.config_for_email(email) if email else None
            if config is None:
                form = self.get_form()
                form.is_valid()
                form.errors.clear()
                form.add_error(None, "Single sign-on is not set up for that email domain. Sign in with your password.")
                return self.form_invalid(form)
            return HttpResponseRedirect(sso.login_url(config))
        required = sso.sso_required(email=email, user=email_owners.user_by_email(email)) if email else None
        if required is not None:
            if request.POST.get("password"):
                # As long as the password check an exempt account of the domain gets (below):
                # the answer's time does not tell which addresses have such accounts either.
                make_password(request.POST["password"])
            return HttpResponseRedirect(sso.login_url(required))
        domain_sso = sso.sso_required(email=email, user=None) if email else None
        if domain_sso is None:
            return super().post(request, *args, **kwargs)
        # An account the domain's SSO exempts (a superuser, an account outside the tenant):
        # its password is checked, but a failed or locked-out sign-in (only such accounts ever
        # reach a password check here, so only they could be locked) is answered like every
        # other address of the domain, so the form does not tell anyone that it exists.
        try:
            response = super().post(request, *args, **kwargs)
        except ApiError as exc:
            if exc.status_code != 429:
                raise
            return HttpResponseRedirect(sso.login_url(domain_sso))
        if response.status_code == 200 and not request.user.is_authenticated:
            return HttpResponseRedirect(sso.login_url(domain_sso))
        return response


class ReauthenticateView(allauth_views.ReauthenticateView):
    """Re-authentication also gets a new session id. What it resumes (an identity link waiting
    for the password: ``user.sso_linked``) is one transaction with it."""

    @method_decorator(transaction.atomic)
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.session_started(request=self.request, user=self.request.user)
        return response


class PasswordChangeView(allauth_views.PasswordChangeView):
    """allauth's password change. The change and its entry are one transaction; the current
    password's check (``accounts.forms.ChangePasswordForm``) is not in it, so a wrong one's
    entry, and the lockout it may start, are kept when the page answers 429."""

    form_class = ChangePasswordForm

    @method_decorator(transaction.atomic)
    def form_valid(self, form: Any) -> HttpResponse:
        return super().form_valid(form)


def authenticated_recently(request: HttpRequest) -> bool:
    """A sign-in or re-authentication (password, SSO or 2FA) within
    ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    records = get_authentication_records(request, request.user)
    latest = max((float(r.get("at", 0)) for r in records), default=0.0)
    return time.time() - latest < allauth_account_settings.REAUTHENTICATION_TIMEOUT


def reauthenticate_url(target: str) -> str:
    """allauth's re-authentication page, coming back to ``target``."""
    return f"{reverse('account_reauthenticate')}?{urlencode({'next': target})}"


def recent_authentication_required(view: View) -> View:
    """Security changes need a sign-in or re-authentication (password, SSO or 2FA) within
    ACCOUNT_REAUTHENTICATION_TIMEOUT; otherwise allauth's re-authentication page first."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not authenticated_recently(request):
            target = request.get_full_path() if request.method == "GET" else reverse("accounts_2fa_setup")
            return HttpResponseRedirect(reauthenticate_url(target))
        return view(request, *args, **kwargs)

    return wrapped


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` parameter when it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
