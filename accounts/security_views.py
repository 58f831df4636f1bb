"""The security page (``/accounts/security/``): second factors, passkeys, the linked
single sign-on identity and the signed-in sessions, and signing out everywhere."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import passkeys, services, sso
from accounts.models import RecoveryCodeDevice, User, UserSession
from accounts.two_factor_views import passkey_change_refusal, passkey_config, step_up_url
from accounts.views import reauthenticate_url


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    sessions = UserSession.objects.filter(user=user).signed_in()
    # "Link single sign-on" (SSO refuses to link accounts of other tenants by email; their
    # owners link them here, signed in).
    link_config = sso.link_offer(user)
    has_2fa = services.has_2fa(user)
    return render(
        request,
        "accounts/security.html",
        {
            "has_2fa": has_2fa,
            "sessions": sessions,
            "current_key": request.session.session_key,
            "sso_link_url": sso.login_url(link_config) if link_config else None,
            "sso_link_tenant": link_config.tenant if link_config else None,
            "passkeys": passkeys.passkeys_of(user),
            "passkey_refusal": passkey_change_refusal(request),
            "passkey_reauthenticate_url": reauthenticate_url(reverse("accounts_security")),
            "passkey_verify_url": step_up_url(reverse("accounts_security")),
            "passkey_config": passkey_config(request, "accounts_passkey_register"),
            "needs_recovery_codes": has_2fa and not RecoveryCodeDevice.objects.filter(user=user).exists(),
        },
    )


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.sessions_ended(user=request.user, keep=request.session.session_key, via="user")
    logout(request)
    messages.success(request, "You are signed out on every device.")
    return HttpResponseRedirect(reverse("account_login"))
