"""The second factor's pages: the sign-in's 2FA challenge and the step-up of a signed-in
session, and passkeys (enrolment, renaming, removal and the JSON ceremonies
django-otp-webauthn's scripts call). Turning 2FA on and off: ``accounts.enrolment_views``."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from accounts import mfa, passkeys, services
from accounts.app_settings import app_settings
from accounts.forms import CodeForm
from accounts.models import User
from accounts.stages import finish_second_step, pending_second_step
from accounts.views import (
    View,
    authenticated_recently,
    form_rate_limited,
    ip_rate_key,
    reauthenticate_url,
    safe_next,
)
from tater import lockout
from tater.api.errors import ApiError
from tater.client_ip import client_ip
from tater.exceptions import DomainError
from tater.operations.metrics import REFUSAL_CODE_ATTR


def is_verified(user: Any) -> bool:
    """Whether this session passed the second factor: django-otp's OTPMiddleware gives the
    request's user an ``is_verified()`` at run time (absent on a user loaded elsewhere)."""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def step_up_url(target: str) -> str:
    """The step-up check (a code or a passkey), coming back to ``target``."""
    return f"{reverse('accounts_2fa_verify')}?{urlencode({'next': target})}"


def second_factor_required(view: View) -> View:
    """Changing an enrolled second factor (replacing it, new recovery codes, turning it
    off) needs a session that passed it: a session from before the enrolment, plus the
    password, must not be able to remove what now guards the account (GitHub asks for the
    second factor too). Such a session steps up first and comes back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and services.has_2fa(user) and not is_verified(user):
            target = request.get_full_path() if request.method == "GET" else reverse("accounts_security")
            return HttpResponseRedirect(step_up_url(target))
        return view(request, *args, **kwargs)

    return wrapped


def _second_factor_failed(request: HttpRequest, user: Any, *, method: str) -> None:
    """A wrong code or passkey: audited (``user.login_failed``) and counted by the lockout."""
    user_login_failed.send(sender=__name__, credentials={"email": user.email, "method": method}, request=request)
    lockout.register_failure(ip=client_ip(request), kind="otp", account=user.email)


def _check_code(request: HttpRequest, user: Any, code: str, form: CodeForm) -> Any | None:
    """The device that accepts ``code``, or None with the reason on ``form``: a wrong code
    (audited, counted by the lockout) or a device still throttled after wrong ones (no code
    was checked: the person is told how long to wait)."""
    lockout.check_account(user.email)
    try:
        device = services.verify_second_factor(user=user, code=code)
    except services.OTPThrottled as exc:
        form.add_error("code", exc.message)
        return None
    if device is None:
        _second_factor_failed(request, user, method="otp")
        form.add_error("code", "That code is not valid or was already used.")
    return device


@form_rate_limited("2fa")
def two_factor_challenge(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in (allauth login stage): a TOTP or recovery code."""
    stage, user = pending_second_step(request)
    if stage is None:
        return HttpResponseRedirect(reverse("account_login"))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = _check_code(request, user, form.cleaned_data["code"], form)
        if device is not None:
            return finish_second_step(stage, user, device) or HttpResponseRedirect(reverse("account_login"))
    return render(
        request,
        "accounts/2fa_challenge.html",
        {
            "form": form,
            "email": user.email,
            "pending_sign_in": True,
            **_passkey_step_context(request, user, "accounts_passkey_challenge"),
        },
    )


@never_cache
@require_POST
def two_factor_challenge_cancel(request: HttpRequest) -> HttpResponse:
    """ "Cancel / sign in as someone else" on the sign-in's 2FA step: the pending sign-in is
    dropped (no factor completes it any more; its password step is passed again) with what
    the half-done sign-in kept in the session (a passkey's challenge), and the sign-in form
    is shown. A POST with the CSRF token: a link or another site's form cancels nothing."""
    stage, _ = pending_second_step(request)
    if stage is not None:
        stage.abort()
    if not request.user.is_authenticated:  # never a signed-in session's own state
        request.session.flush()
    if stage is not None:
        messages.info(request, "Sign-in cancelled.")
    return HttpResponseRedirect(reverse("account_login"))


@login_required
@form_rate_limited("2fa")
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Step-up for a signed-in session that is not verified yet (e.g. before the admin)."""
    user = cast(User, request.user)
    next_url = safe_next(request, reverse("accounts_security"))
    if not services.has_2fa(user):
        messages.info(request, "Set up two-factor authentication first.")
        return HttpResponseRedirect(reverse("accounts_2fa_setup"))
    if is_verified(user):
        return HttpResponseRedirect(next_url)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = _check_code(request, user, form.cleaned_data["code"], form)
        if device is not None:
            if not mfa.session_stepped_up(request=request, user=user, device=device):
                request.session.flush()  # signed out meanwhile
                return HttpResponseRedirect(reverse("account_login"))
            return HttpResponseRedirect(next_url)
    return render(
        request,
        "accounts/2fa_challenge.html",
        {
            "form": form,
            "email": user.email,
            "next": next_url,
            **_passkey_step_context(request, user, "accounts_passkey_verify"),
        },
    )


def sign_out_elsewhere(request: HttpRequest, *, first: bool = True) -> None:
    """A first second factor, a replaced authenticator, new recovery codes or a removed
    passkey sign out the account's other sessions (SPEC §8): signed in on the password alone
    they never passed the factor, or they passed one its owner has just taken back (a read
    recovery code, a borrowed phone). A stolen cookie must not outlive the fix."""
    if mfa.factor_changed_sign_out(user=cast(User, request.user), keep=request.session.session_key):
        again = "they sign in again with the second factor" if first else "they sign in again"
        messages.info(request, f"Your other sessions were signed out: {again}.")


# --- Passkeys (accounts/passkeys.py) -------------------------------------------------
# django-otp-webauthn's scripts (static files: the CSP admits no inline script) drive the
# browser side; the JSON views below answer them in the shape those scripts read
# ({"detail", "code"} on refusal; {"id", "redirect_url"} once verified). They are Tater's own
# rather than the library's, which would sign a passkey's owner in without the password.


def passkey_config(request: HttpRequest, prefix: str) -> dict[str, Any]:
    """The ``otp_webauthn_config`` the library's scripts read: which ceremony URLs to call."""
    urls = {"begin": reverse(f"{prefix}_begin"), "complete": reverse(f"{prefix}_complete")}
    return {
        "beginRegistrationUrl": urls["begin"],
        "completeRegistrationUrl": urls["complete"],
        "beginAuthenticationUrl": urls["begin"],
        "completeAuthenticationUrl": urls["complete"],
        "autocompleteLoginFieldSelector": None,  # no passwordless sign-in
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
    }


def _passkey_step_context(request: HttpRequest, user: Any, prefix: str) -> dict[str, Any]:
    has_passkey = passkeys.has_passkey(user)
    return {"has_passkey": has_passkey, "passkey_config": passkey_config(request, prefix) if has_passkey else None}


def _json_refusal(status: int, code: str, detail: str, retry_after: str | None = None) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    if retry_after:
        response["Retry-After"] = retry_after
    if status == 429:  # counted as the API counts the same refusal (busy: LOCKED_OUT there too)
        setattr(response, REFUSAL_CODE_ATTR, "RATE_LIMITED" if code == "rate_limited" else "LOCKED_OUT")
    return response


def json_ceremony(group: str) -> Callable[[View], View]:
    """POST only, never cached, per-IP rate limited like the 2FA form, the lockout's 429 as JSON."""

    def decorator(view: View) -> View:
        @wraps(view)
        @never_cache
        @require_POST
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if is_ratelimited(
                request,
                group=f"accounts.{group}",
                key=ip_rate_key,
                rate=app_settings.AUTH_FORM_RATE,
                method="POST",
                increment=True,
            ):
                return _json_refusal(429, "rate_limited", "Too many attempts, retry in a minute", retry_after="60")
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                if exc.status_code != 429:
                    raise
                if isinstance(exc, lockout.SignInBusy):
                    return _json_refusal(429, "busy", exc.message, retry_after="1")
                return _json_refusal(
                    429,
                    "locked_out",
                    "Too many failed attempts: try again later",
                    retry_after=exc.headers.get("Retry-After"),
                )

        return wrapped

    return decorator


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def passkey_change_refusal(request: HttpRequest) -> str | None:
    """Why the signed-in user may not add or remove a passkey now, or None. As for TOTP, a
    recent sign-in or re-authentication; and an enrolled user's session must have passed
    the second factor (django-otp-webauthn's rule: no new factor on the password alone)."""
    user = request.user
    if not user.is_authenticated:
        return "not_authenticated"
    if services.has_2fa(user) and not is_verified(user):
        return "user_not_verified"
    if not authenticated_recently(request):
        return "reauthentication_required"
    return None


PASSKEY_CHANGE_REFUSALS = {
    "not_authenticated": "Sign in first.",
    "user_not_verified": "Verify this session with your second factor first.",
    "reauthentication_required": "Confirm your password first: reload the page and follow the link.",
}


@json_ceremony("passkey_register")
def passkey_register_begin(request: HttpRequest) -> HttpResponse:
    refusal = passkey_change_refusal(request)
    if refusal:
        return _json_refusal(403, refusal, PASSKEY_CHANGE_REFUSALS[refusal])
    return JsonResponse(passkeys.passkey_registration_begin(request=request, user=request.user))


@json_ceremony("passkey_register")
def passkey_register_complete(request: HttpRequest) -> HttpResponse:
    refusal = passkey_change_refusal(request)
    if refusal and refusal != "reauthentication_required":  # begin checked it; the state expires
        return _json_refusal(403, refusal, PASSKEY_CHANGE_REFUSALS[refusal])
    user = request.user
    try:
        device = passkeys.passkey_registration_complete(request=request, user=user, data=_json_body(request))
    except passkeys.PasskeyRefused as exc:
        return _json_refusal(422, "invalid_registration", exc.message)
    if not is_verified(user):
        # Its first second factor (an enrolled user's unverified session is refused above).
        django_otp.login(request, device)  # as after confirming a TOTP app
        sign_out_elsewhere(request)
    messages.success(request, f"Passkey added as “{device.name}”. Rename it below if you like.")
    return JsonResponse({"id": device.pk})


INVALID_STATE = "Sign in again: this sign-in is no longer pending."
PASSKEY_FAILED = "That passkey could not be verified. Try again, or use a code."


def _options_for(request: HttpRequest, user: Any) -> HttpResponse:
    lockout.check_account(user.email)
    try:
        return JsonResponse(passkeys.passkey_authentication_begin(request=request, user=user))
    except DomainError as exc:
        return _json_refusal(400, "no_passkey", exc.message)


def _verified_passkey(request: HttpRequest, user: Any) -> Any | None:
    lockout.check_account(user.email)
    device = passkeys.passkey_authentication_complete(request=request, user=user, data=_json_body(request))
    if device is None:
        _second_factor_failed(request, user, method="passkey")
    return device


@json_ceremony("2fa")
def passkey_challenge_begin(request: HttpRequest) -> HttpResponse:
    """The sign-in's second step (allauth login stage): options for the pending user."""
    _, user = pending_second_step(request)
    if user is None:
        return _json_refusal(400, "invalid_state", INVALID_STATE)
    return _options_for(request, user)


@json_ceremony("2fa")
def passkey_challenge_complete(request: HttpRequest) -> HttpResponse:
    stage, user = pending_second_step(request)
    if user is None:
        return _json_refusal(400, "invalid_state", INVALID_STATE)
    device = _verified_passkey(request, user)
    if device is None:
        return _json_refusal(401, "invalid_passkey", PASSKEY_FAILED)
    response = finish_second_step(stage, user, device)
    if response is None:
        return _json_refusal(400, "invalid_state", INVALID_STATE)
    return JsonResponse({"id": device.pk, "redirect_url": response.get("Location") or reverse("account_login")})


@json_ceremony("2fa")
def passkey_verify_begin(request: HttpRequest) -> HttpResponse:
    """Step-up of a signed-in, unverified session (e.g. before the admin)."""
    if not request.user.is_authenticated:
        return _json_refusal(403, "not_authenticated", PASSKEY_CHANGE_REFUSALS["not_authenticated"])
    return _options_for(request, request.user)


@json_ceremony("2fa")
def passkey_verify_complete(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _json_refusal(403, "not_authenticated", PASSKEY_CHANGE_REFUSALS["not_authenticated"])
    device = _verified_passkey(request, request.user)
    if device is None:
        return _json_refusal(401, "invalid_passkey", PASSKEY_FAILED)
    if not mfa.session_stepped_up(request=request, user=request.user, device=device):
        request.session.flush()  # signed out meanwhile
        return _json_refusal(403, "not_authenticated", PASSKEY_CHANGE_REFUSALS["not_authenticated"])
    return JsonResponse({"id": device.pk, "redirect_url": safe_next(request, reverse("accounts_security"))})


def _passkey_or_404(request: HttpRequest, passkey_id: int) -> Any:
    passkey = passkeys.passkey_of(user=request.user, passkey_id=passkey_id)
    if passkey is None:
        raise Http404("No such passkey")
    return passkey


@login_required
@require_POST
def passkey_rename(request: HttpRequest, passkey_id: int) -> HttpResponse:
    passkey = _passkey_or_404(request, passkey_id)
    try:
        passkeys.passkey_rename(passkey=passkey, name=request.POST.get("name", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Passkey renamed to “{passkey.name}”.")
    return HttpResponseRedirect(reverse("accounts_security"))


# Passkeys this session removed: pressed again (a double click, a reload), Remove says so
# instead of the 404 page (like the submit tokens of tater.resubmission).
REMOVED_PASSKEYS = "accounts.passkeys_removed"


@login_required
@require_POST
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    if passkey_id in request.session.get(REMOVED_PASSKEYS, []) and not passkeys.passkey_of(
        user=request.user, passkey_id=passkey_id
    ):
        messages.info(request, "That passkey was already removed: nothing changed.")
        return HttpResponseRedirect(reverse("accounts_security"))
    passkey = _passkey_or_404(request, passkey_id)
    refusal = passkey_change_refusal(request)
    if refusal == "reauthentication_required":
        messages.info(request, "Confirm your password, then remove the passkey again.")
        return HttpResponseRedirect(reauthenticate_url(reverse("accounts_security")))
    if refusal:
        return HttpResponseRedirect(step_up_url(reverse("accounts_security")))
    removed = passkey.persistent_id  # before the delete clears its pk
    try:
        passkeys.passkey_remove(passkey=passkey)
    except mfa.SecondFactorRequired as exc:
        messages.error(request, exc.message)
    else:
        request.session[REMOVED_PASSKEYS] = [*request.session.get(REMOVED_PASSKEYS, [])[-9:], passkey_id]
        mfa.session_keeps_verification(request, removed=removed)
        messages.success(request, f"Passkey “{passkey.name}” removed.")
        sign_out_elsewhere(request, first=False)
    return HttpResponseRedirect(reverse("accounts_security"))
