"""Turning the second factor on and off: the authenticator app's enrolment (QR code, then the
recovery codes shown once), new recovery codes and turning 2FA off. The sign-in's challenge,
the step-up and passkeys are in ``accounts.two_factor_views``."""

from __future__ import annotations

import base64
from typing import cast

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import mfa, passkeys, services
from accounts.forms import ConfirmTOTPForm, PasswordConfirmForm
from accounts.models import RecoveryCodeDevice, User
from accounts.qr import qr_svg
from accounts.two_factor_views import is_verified, second_factor_required, sign_out_elsewhere
from accounts.views import form_rate_limited, recent_authentication_required
from tater.exceptions import DomainError


@never_cache  # the page carries the authenticator's secret, then the recovery codes (SPEC §3)
@login_required
@second_factor_required
@recent_authentication_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: QR code (inline SVG), confirm with a code, then the recovery
    codes are shown once."""
    user = cast(User, request.user)
    if services.has_2fa(user) and request.GET.get("replace") != "1" and request.method == "GET":
        recovery_device = RecoveryCodeDevice.objects.filter(user=user).first()
        return render(
            request,
            "accounts/2fa_status.html",
            {
                "remaining": recovery_device.remaining() if recovery_device else 0,
                "verified": is_verified(user),
                "has_totp": services.totp_device(user) is not None,
                "passkey_count": passkeys.passkeys_of(user).count(),
            },
        )
    form = ConfirmTOTPForm(request.POST if request.method == "POST" else None)
    device = services.pending_totp_device(user)
    if request.method == "POST" and device is None and services.has_2fa(user):
        # Verify pressed again, or the recovery codes page reloaded: that enrolment is done.
        # Starting another would show a new QR code in place of the codes shown once.
        messages.info(
            request,
            "Two-factor authentication is already on. Recovery codes are shown only once: "
            "if you did not save them, generate new ones.",
        )
        return HttpResponseRedirect(reverse("accounts_2fa_setup"))
    if request.method == "POST" and device is not None and form.is_valid():
        first = not services.has_2fa(user)
        try:
            confirmed, codes = services.totp_enrolment_confirm(
                user=user, code=form.cleaned_data["code"], shown=form.cleaned_data["shown"]
            )
        except services.EnrolmentDone as exc:  # never the QR code of the app just set up
            messages.info(request, exc.message)
            return HttpResponseRedirect(reverse("accounts_2fa_setup"))
        except services.EnrolmentReplaced as exc:
            form.add_error(None, exc.message)  # the QR code below is the enrolment in place now
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            django_otp.login(request, confirmed)
            sign_out_elsewhere(request, first=first)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "fresh_enrolment": True})
    if request.method == "POST":
        # The QR code this page showed while it is still waiting, else the one in place now:
        # the page shows again only a secret it will confirm.
        device = services.pending_totp_device(user, shown=form.data.get("shown", "")) or (
            services.pending_totp_device(user)
        )
    if device is None or request.method == "GET":
        device = services.totp_enrolment_start(user=user)
    return render(
        request,
        "accounts/2fa_setup.html",
        {
            "form": form,
            "qr": qr_svg(device.config_url),
            "secret": _b32(device.bin_key),
            "shown": services.totp_enrolment_shown(device),
        },
    )


def _b32(key: bytes) -> str:
    raw = base64.b32encode(key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@never_cache  # the page carries the new recovery codes (SPEC §3)
@login_required
@second_factor_required
@recent_authentication_required
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not services.has_2fa(request.user):
        return HttpResponseRedirect(reverse("accounts_2fa_setup"))
    passed_with = getattr(request.user, "otp_device", None)
    codes = services.recovery_codes_regenerate(user=request.user)
    if isinstance(passed_with, RecoveryCodeDevice):
        # The session passed the second factor with a code of the set just replaced (the
        # lost-phone path): it stays verified, or replacing the authenticator next would
        # send it back to the step-up to spend one of the new codes.
        django_otp.login(request, RecoveryCodeDevice.objects.get(user=request.user))
    sign_out_elsewhere(request, first=False)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "fresh_enrolment": False})


@login_required
@form_rate_limited("2fa")
@second_factor_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Removing the second factor asks for the password again (and a session that passed it),
    checked as the sign-in checks one (``accounts.forms.password_confirmed``)."""
    form = PasswordConfirmForm(request.POST if request.method == "POST" else None, user=request.user, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.mfa_disable(user=request.user)
        except mfa.SecondFactorRequired as exc:
            form.add_error(None, exc.message)
        else:
            services.session_started(request=request, user=request.user)
            messages.success(request, "Two-factor authentication is off.")
            return HttpResponseRedirect(reverse("accounts_security"))
    return render(request, "accounts/2fa_disable.html", {"form": form})
