"""Account pages: allauth's sign-in/up/reset wrapped with a per-IP form rate limit and the
lockout page, the 2FA challenge, enrolment and recovery codes, passkeys (enrolment, renaming,
removal and the JSON ceremonies django-otp-webauthn's scripts call), the security page and
the tenant SSO settings with its verified domains."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import django_otp
from allauth.account import app_settings as allauth_account_settings
from allauth.account import views as allauth_views
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.stages import LoginStageController
from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from accounts import domains, passkeys, services, sso
from accounts.adapter import client_ip
from accounts.app_settings import app_settings
from accounts.forms import (
    CodeForm,
    ConfirmTOTPForm,
    DomainForm,
    LoginForm,
    PasswordConfirmForm,
    SSOConfigForm,
    SSOStartForm,
)
from accounts.models import RecoveryCodeDevice, TenantDomain, TenantSSOConfig, UserSession
from accounts.qr import qr_svg
from accounts.stages import OTPStage
from orgs import roles
from orgs.models import TenantMembership
from tater import lockout
from tater.api.errors import ApiError
from tater.emails import normalize_email
from tater.exceptions import DomainError

View = Callable[..., HttpResponse]


def _ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def too_many_requests(request: HttpRequest, exception: Exception | None = None, *, retry_after: str | None = None, locked: bool = False) -> HttpResponse:
    """The 429 page (also allauth's handler429 through tater.urls)."""
    response = render(request, "accounts/429.html", {"locked": locked, "retry_after": retry_after}, status=429)
    response["Retry-After"] = retry_after or "60"
    return response


def form_rate_limited(group: str) -> Callable[[View], View]:
    """Per-IP django-ratelimit on a form's POSTs, and the lockout page when tater.lockout
    refuses the attempt (it raises the API's LOCKED_OUT error)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST" and is_ratelimited(
                request, group=f"accounts.{group}", key=_ip_key, rate=app_settings.AUTH_FORM_RATE, method="POST", increment=True
            ):
                return too_many_requests(request)
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                if exc.status_code != 429:
                    raise
                return too_many_requests(request, retry_after=exc.headers.get("Retry-After"), locked=exc.code == "LOCKED_OUT")

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
        required = sso.sso_required(email=email, user=services.user_by_email(email)) if email else None
        if required is not None:
            return HttpResponseRedirect(sso.login_url(required))
        return super().post(request, *args, **kwargs)


class ReauthenticateView(allauth_views.ReauthenticateView):
    """Re-authentication also gets a new session id."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.session_started(request=self.request, user=self.request.user)
        return response


def authenticated_recently(request: HttpRequest) -> bool:
    """A sign-in or re-authentication (password, SSO or 2FA) within
    ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    records = get_authentication_records(request, request.user)
    latest = max((float(r.get("at", 0)) for r in records), default=0.0)
    return time.time() - latest < allauth_account_settings.REAUTHENTICATION_TIMEOUT


def _reauthenticate_url(target: str) -> str:
    return f"{reverse('account_reauthenticate')}?{urlencode({'next': target})}"


def recent_authentication_required(view: View) -> View:
    """Security changes need a sign-in or re-authentication (password, SSO or 2FA) within
    ACCOUNT_REAUTHENTICATION_TIMEOUT; otherwise allauth's re-authentication page first."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not authenticated_recently(request):
            target = request.get_full_path() if request.method == "GET" else reverse("accounts_2fa_setup")
            return HttpResponseRedirect(_reauthenticate_url(target))
        return view(request, *args, **kwargs)

    return wrapped


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _second_factor_failed(request: HttpRequest, user: Any, *, method: str) -> None:
    """A wrong code or passkey: audited (``user.login_failed``) and counted by the lockout."""
    from django.contrib.auth.signals import user_login_failed

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
    stage = LoginStageController.enter(request, OTPStage.key)
    if stage is None or stage.login.user is None:
        return HttpResponseRedirect(reverse("account_login"))
    user = stage.login.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _check_code(request, user, form.cleaned_data["code"], form)
        if device is not None:
            # django-otp marks the session verified when Django's login() sees this.
            user.otp_device = device
            return stage.exit()
    return render(
        request, "accounts/2fa_challenge.html",
        {"form": form, "email": user.email, **_passkey_step_context(request, user, "accounts_passkey_challenge")},
    )


@login_required
@form_rate_limited("2fa")
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Step-up for a signed-in session that is not verified yet (e.g. before the admin)."""
    next_url = _safe_next(request, reverse("accounts_security"))
    if not services.has_2fa(request.user):
        messages.info(request, "Set up two-factor authentication first.")
        return HttpResponseRedirect(reverse("accounts_2fa_setup"))
    if request.user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _check_code(request, request.user, form.cleaned_data["code"], form)
        if device is not None:
            services.session_started(request=request, user=request.user)
            django_otp.login(request, device)
            return HttpResponseRedirect(next_url)
    return render(
        request, "accounts/2fa_challenge.html",
        {
            "form": form, "email": request.user.email, "next": next_url,
            **_passkey_step_context(request, request.user, "accounts_passkey_verify"),
        },
    )


@login_required
@recent_authentication_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: QR code (inline SVG), confirm with a code, then the recovery
    codes are shown once."""
    user = request.user
    if services.has_2fa(user) and request.GET.get("replace") != "1" and request.method == "GET":
        device = RecoveryCodeDevice.objects.filter(user=user).first()
        return render(
            request, "accounts/2fa_status.html",
            {
                "remaining": device.remaining() if device else 0, "verified": user.is_verified(),  # type: ignore[union-attr]
                "has_totp": services.totp_device(user) is not None, "passkey_count": passkeys.passkeys_of(user).count(),
            },
        )
    form = ConfirmTOTPForm(request.POST or None)
    device = services.pending_totp_device(user)
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            confirmed, codes = services.totp_enrolment_confirm(user=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            django_otp.login(request, confirmed)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "fresh_enrolment": True})
    if device is None or request.method == "GET":
        device = services.totp_enrolment_start(user=user)
    return render(
        request, "accounts/2fa_setup.html",
        {"form": form, "qr": qr_svg(device.config_url), "secret": _b32(device.bin_key)},
    )


def _b32(key: bytes) -> str:
    import base64

    raw = base64.b32encode(key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
@recent_authentication_required
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not services.has_2fa(request.user):
        return HttpResponseRedirect(reverse("accounts_2fa_setup"))
    codes = services.recovery_codes_regenerate(user=request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "fresh_enrolment": False})


@login_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Removing the second factor asks for the password again."""
    form = PasswordConfirmForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.mfa_disable(user=request.user)
        services.session_started(request=request, user=request.user)
        messages.success(request, "Two-factor authentication is off.")
        return HttpResponseRedirect(reverse("accounts_security"))
    return render(request, "accounts/2fa_disable.html", {"form": form})


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    sessions = UserSession.objects.filter(user=user)
    # "Link single sign-on": the IdP of the tenant that verified the user's email domain,
    # until this account has an identity there (SSO refuses to link accounts of other
    # tenants by email; their owners link them here, signed in).
    link_config = sso.config_for_email(user.email)
    if link_config is not None and SocialAccount.objects.filter(user=user, provider=link_config.provider_id).exists():
        link_config = None
    has_2fa = services.has_2fa(user)
    return render(
        request, "accounts/security.html",
        {
            "has_2fa": has_2fa, "sessions": sessions, "current_key": request.session.session_key,
            "sso_link_url": sso.login_url(link_config) if link_config else None,
            "sso_link_tenant": link_config.tenant if link_config else None,
            "passkeys": passkeys.passkeys_of(user),
            "passkey_refusal": _passkey_change_refusal(request),
            "passkey_reauthenticate_url": _reauthenticate_url(reverse("accounts_security")),
            "passkey_verify_url": f"{reverse('accounts_2fa_verify')}?{urlencode({'next': reverse('accounts_security')})}",
            "passkey_config": _passkey_config(request, "accounts_passkey_register"),
            "needs_recovery_codes": has_2fa and not RecoveryCodeDevice.objects.filter(user=user).exists(),
        },
    )


# --- Passkeys (accounts/passkeys.py) -------------------------------------------------
# django-otp-webauthn's scripts (static files: the CSP admits no inline script) drive the
# browser side; the JSON views below answer them in the shape those scripts read
# ({"detail", "code"} on refusal; {"id", "redirect_url"} once verified). They are Tater's own
# rather than the library's, which would sign a passkey's owner in without the password.


def _passkey_config(request: HttpRequest, prefix: str) -> dict[str, Any]:
    """The ``otp_webauthn_config`` the library's scripts read: which ceremony URLs to call."""
    urls = {"begin": reverse(f"{prefix}_begin"), "complete": reverse(f"{prefix}_complete")}
    return {
        "beginRegistrationUrl": urls["begin"], "completeRegistrationUrl": urls["complete"],
        "beginAuthenticationUrl": urls["begin"], "completeAuthenticationUrl": urls["complete"],
        "autocompleteLoginFieldSelector": None,  # no passwordless sign-in
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
    }


def _passkey_step_context(request: HttpRequest, user: Any, prefix: str) -> dict[str, Any]:
    has_passkey = passkeys.has_passkey(user)
    return {"has_passkey": has_passkey, "passkey_config": _passkey_config(request, prefix) if has_passkey else None}


def _json_refusal(status: int, code: str, detail: str, retry_after: str | None = None) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    if retry_after:
        response["Retry-After"] = retry_after
    return response


def json_ceremony(group: str) -> Callable[[View], View]:
    """POST only, never cached, per-IP rate limited like the 2FA form, the lockout's 429 as JSON."""

    def decorator(view: View) -> View:
        @wraps(view)
        @never_cache
        @require_POST
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if is_ratelimited(request, group=f"accounts.{group}", key=_ip_key, rate=app_settings.AUTH_FORM_RATE, method="POST", increment=True):
                return _json_refusal(429, "rate_limited", "Too many attempts, retry in a minute", retry_after="60")
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                if exc.status_code != 429:
                    raise
                return _json_refusal(429, "locked_out", "Too many failed attempts: try again later", retry_after=exc.headers.get("Retry-After"))

        return wrapped

    return decorator


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def _passkey_change_refusal(request: HttpRequest) -> str | None:
    """Why the signed-in user may not add or remove a passkey now, or None. As for TOTP, a
    recent sign-in or re-authentication; and an enrolled user's session must have passed
    the second factor (django-otp-webauthn's rule: no new factor on the password alone)."""
    user = request.user
    if not user.is_authenticated:
        return "not_authenticated"
    if services.has_2fa(user) and not user.is_verified():  # type: ignore[union-attr]
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
    refusal = _passkey_change_refusal(request)
    if refusal:
        return _json_refusal(403, refusal, PASSKEY_CHANGE_REFUSALS[refusal])
    return JsonResponse(passkeys.passkey_registration_begin(request=request, user=request.user))


@json_ceremony("passkey_register")
def passkey_register_complete(request: HttpRequest) -> HttpResponse:
    refusal = _passkey_change_refusal(request)
    if refusal and refusal != "reauthentication_required":  # begin checked it; the state expires
        return _json_refusal(403, refusal, PASSKEY_CHANGE_REFUSALS[refusal])
    user = request.user
    try:
        device = passkeys.passkey_registration_complete(request=request, user=user, data=_json_body(request))
    except passkeys.PasskeyRefused as exc:
        return _json_refusal(422, "invalid_registration", exc.message)
    if not user.is_verified():  # type: ignore[union-attr]
        django_otp.login(request, device)  # as after confirming a TOTP app
    messages.success(request, f"Passkey added as “{device.name}”. Rename it below if you like.")
    return JsonResponse({"id": device.pk})


def _stage_user(request: HttpRequest) -> tuple[Any, Any]:
    stage = LoginStageController.enter(request, OTPStage.key)
    if stage is None or stage.login.user is None:
        return None, None
    return stage, stage.login.user


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
    _, user = _stage_user(request)
    if user is None:
        return _json_refusal(400, "invalid_state", INVALID_STATE)
    return _options_for(request, user)


@json_ceremony("2fa")
def passkey_challenge_complete(request: HttpRequest) -> HttpResponse:
    stage, user = _stage_user(request)
    if user is None:
        return _json_refusal(400, "invalid_state", INVALID_STATE)
    device = _verified_passkey(request, user)
    if device is None:
        return _json_refusal(401, "invalid_passkey", PASSKEY_FAILED)
    # django-otp marks the session verified when Django's login() sees this.
    user.otp_device = device
    response = stage.exit()
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
    services.session_started(request=request, user=request.user)
    django_otp.login(request, device)
    return JsonResponse({"id": device.pk, "redirect_url": _safe_next(request, reverse("accounts_security"))})


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


@login_required
@require_POST
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    passkey = _passkey_or_404(request, passkey_id)
    refusal = _passkey_change_refusal(request)
    if refusal == "reauthentication_required":
        messages.info(request, "Confirm your password, then remove the passkey again.")
        return HttpResponseRedirect(_reauthenticate_url(reverse("accounts_security")))
    if refusal:
        return HttpResponseRedirect(f"{reverse('accounts_2fa_verify')}?{urlencode({'next': reverse('accounts_security')})}")
    passkeys.passkey_remove(passkey=passkey)
    messages.success(request, f"Passkey “{passkey.name}” removed.")
    return HttpResponseRedirect(reverse("accounts_security"))


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user = request.user
    services.sessions_end_all(user=user, keep=request.session.session_key)
    logout(request)
    messages.success(request, "You are signed out on every device.")
    return HttpResponseRedirect(reverse("account_login"))


@form_rate_limited("sso_start")
def sso_start(request: HttpRequest) -> HttpResponse:
    """Email-first SSO: the email's domain picks the tenant's identity provider."""
    form = SSOStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        config = sso.config_for_email(form.cleaned_data["email"])
        if config is not None:
            return HttpResponseRedirect(sso.login_url(config))
        form.add_error("email", "Single sign-on is not set up for that email domain.")
    return render(request, "accounts/sso_start.html", {"form": form})


def _owned_tenant(request: HttpRequest) -> tuple[Any, Any]:
    """The tenant (named by ``tenant``, else the first) the user owns, and all they own."""
    owned = TenantMembership.objects.filter(user=request.user, role=roles.TenantRole.OWNER).select_related("tenant")
    wanted = request.GET.get("tenant") or request.POST.get("tenant")
    membership = next((m for m in owned if m.tenant.public_id == wanted), None) if wanted else owned.first()
    return (membership.tenant if membership else None), owned


def _settings_url(tenant: Any) -> str:
    return f"{reverse('accounts_sso_settings')}?{urlencode({'tenant': tenant.public_id})}"


@login_required
def sso_settings(request: HttpRequest) -> HttpResponse:
    """A tenant owner's SSO configuration (one IdP per tenant) and verified domains."""
    tenant, owned = _owned_tenant(request)
    if tenant is None:
        return render(request, "accounts/sso_settings.html", {"not_owner": True}, status=403)
    config = TenantSSOConfig.objects.filter(tenant=tenant).first()
    form = SSOConfigForm(request.POST or None, instance=config, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            config = sso.sso_config_save(tenant=tenant, actor=request.user, values=values)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Single sign-on settings saved.")
            return HttpResponseRedirect(_settings_url(tenant))
    callback = None
    if config is not None and config.protocol == "oidc":
        callback = request.build_absolute_uri(reverse("openid_connect_callback", kwargs={"provider_id": config.provider_id}))
    claims = list(domains.tenant_domains(tenant=tenant))
    return render(
        request, "accounts/sso_settings.html",
        {
            "form": form, "tenant": tenant, "config": config, "owned": owned, "callback_url": callback,
            "domains": claims, "domain_form": DomainForm(), "has_verified_domain": any(c.is_verified for c in claims),
        },
    )


@login_required
@require_POST
def sso_domain_add(request: HttpRequest) -> HttpResponse:
    """Claim an email domain (pending until its TXT record is verified)."""
    tenant, _ = _owned_tenant(request)
    if tenant is None:
        return render(request, "accounts/sso_settings.html", {"not_owner": True}, status=403)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            claim = domains.domain_add(tenant=tenant, actor=request.user, domain=form.cleaned_data["domain"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.info(request, f"Publish the TXT record below for {claim.domain}, then press Verify.")
    else:
        messages.error(request, "Enter a domain name such as example.com")
    return HttpResponseRedirect(_settings_url(tenant))


def _claim_of(request: HttpRequest, domain_id: int) -> Any:
    """The claim ``domain_id`` of a tenant the user owns; 404 for anything else."""
    owned = TenantMembership.objects.filter(user=request.user, role=roles.TenantRole.OWNER).values("tenant_id")
    claim = TenantDomain.objects.select_related("tenant").filter(pk=domain_id, tenant_id__in=owned).first()
    if claim is None:
        raise Http404("No such domain")
    return claim


@login_required
@require_POST
@form_rate_limited("sso_domain_verify")
def sso_domain_verify(request: HttpRequest, domain_id: int) -> HttpResponse:
    """Look the domain's TXT record up now; verified when it carries the claim's token."""
    claim = _claim_of(request, domain_id)
    try:
        claim = domains.domain_verify(tenant_domain=claim, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{claim.domain} is verified: its sign-ins now go to your identity provider.")
    return HttpResponseRedirect(_settings_url(claim.tenant))


@login_required
@require_POST
def sso_domain_remove(request: HttpRequest, domain_id: int) -> HttpResponse:
    claim = _claim_of(request, domain_id)
    domains.domain_remove(tenant_domain=claim, actor=request.user)
    messages.success(request, f"{claim.domain} removed.")
    return HttpResponseRedirect(_settings_url(claim.tenant))
