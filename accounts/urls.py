"""Account pages. Included at /accounts/ before allauth.urls: the paths that repeat
allauth's (login, signup, password reset, password change, reauthenticate) replace its views
with the rate-limited / extended ones.

allauth saves a password, a new account, an email address or an identity link (or deletes
one) and only then sends the signal whose receiver writes the audit entry
(accounts.receivers): its pages that write run here in one transaction (``_atomic``; the
password change only around the change, ``accounts.views.PasswordChangeView``), so a change is
never kept without its entry."""

from __future__ import annotations

from typing import Any

from allauth.account import urls as allauth_urls
from allauth.account import views as allauth_views
from allauth.socialaccount import views as social_views
from allauth.socialaccount.providers.google import views as google_views
from allauth.socialaccount.providers.microsoft import views as microsoft_views
from allauth.socialaccount.providers.openid_connect import views as openid_connect_views
from allauth.socialaccount.providers.saml import views as saml_views
from django.db import transaction
from django.urls import URLPattern, path, re_path

from accounts import enrolment_views, security_views, sso_views, two_factor_views, views
from accounts.forms import ResetPasswordForm
from accounts.sso_completion import completes_atomically


def _atomic(name: str) -> URLPattern:
    """allauth's own URL pattern ``name``, its view run in one transaction."""
    found: Any = next(p for p in allauth_urls.urlpatterns if getattr(p, "name", None) == name)
    return URLPattern(found.pattern, transaction.atomic(found.callback), found.default_args, name)


urlpatterns = [
    path("login/", views.form_rate_limited("login")(views.LoginView.as_view()), name="account_login"),
    path(
        "signup/",
        views.form_rate_limited("signup")(transaction.atomic(allauth_views.SignupView.as_view())),
        name="account_signup",
    ),
    path(
        "password/change/",
        views.form_rate_limited("change_password")(views.PasswordChangeView.as_view()),
        name="account_change_password",
    ),
    _atomic("account_set_password"),
    _atomic("account_reset_password_from_key"),
    _atomic("account_email"),
    _atomic("account_confirm_email"),
    path("3rdparty/", transaction.atomic(social_views.connections), name="socialaccount_connections"),
    path("3rdparty/signup/", transaction.atomic(social_views.signup), name="socialaccount_signup"),
    path(
        "password/reset/",
        views.form_rate_limited("password_reset")(
            allauth_views.PasswordResetView.as_view(form_class=ResetPasswordForm)
        ),
        name="account_reset_password",
    ),
    path(
        "reauthenticate/",
        views.form_rate_limited("reauth")(views.ReauthenticateView.as_view()),
        name="account_reauthenticate",
    ),
    # allauth's OpenID Connect sign-in start (same path and URL name), without a 500 when the
    # identity provider cannot be reached.
    re_path(r"^oidc/(?P<provider_id>[^/]+)/login/$", sso_views.oidc_login),
    # allauth's SSO return endpoints (same paths and URL names): what completes there (a link,
    # a provisioned user, the sign-in) is one transaction with its entries (accounts.sso_completion).
    re_path(
        r"^oidc/(?P<provider_id>[^/]+)/login/callback/$",
        completes_atomically(openid_connect_views.callback),
        name="openid_connect_callback",
    ),
    path("google/login/callback/", completes_atomically(google_views.oauth2_callback), name="google_callback"),
    path("google/login/token/", completes_atomically(google_views.login_by_token), name="google_login_by_token"),
    path(
        "microsoft/login/callback/",
        completes_atomically(microsoft_views.oauth2_callback),
        name="microsoft_callback",
    ),
    re_path(r"^saml/(?P<organization_slug>[^/]+)/acs/$", completes_atomically(saml_views.acs), name="saml_acs"),
    re_path(
        r"^saml/(?P<organization_slug>[^/]+)/acs/finish/$",
        completes_atomically(saml_views.finish_acs),
        name="saml_finish_acs",
    ),
    path("2fa/challenge/", two_factor_views.two_factor_challenge, name="accounts_2fa_challenge"),
    path(
        "2fa/challenge/cancel/",
        two_factor_views.two_factor_challenge_cancel,
        name="accounts_2fa_challenge_cancel",
    ),
    path("2fa/verify/", two_factor_views.two_factor_verify, name="accounts_2fa_verify"),
    path("2fa/", enrolment_views.two_factor_setup, name="accounts_2fa_setup"),
    path("2fa/recovery-codes/", enrolment_views.recovery_codes_regenerate, name="accounts_recovery_codes"),
    path("2fa/disable/", enrolment_views.two_factor_disable, name="accounts_2fa_disable"),
    # Passkeys: the JSON ceremonies django-otp-webauthn's scripts call, and the security page's forms.
    path(
        "2fa/challenge/passkey/begin/",
        two_factor_views.passkey_challenge_begin,
        name="accounts_passkey_challenge_begin",
    ),
    path(
        "2fa/challenge/passkey/complete/",
        two_factor_views.passkey_challenge_complete,
        name="accounts_passkey_challenge_complete",
    ),
    path("2fa/verify/passkey/begin/", two_factor_views.passkey_verify_begin, name="accounts_passkey_verify_begin"),
    path(
        "2fa/verify/passkey/complete/",
        two_factor_views.passkey_verify_complete,
        name="accounts_passkey_verify_complete",
    ),
    path("passkeys/register/begin/", two_factor_views.passkey_register_begin, name="accounts_passkey_register_begin"),
    path(
        "passkeys/register/complete/",
        two_factor_views.passkey_register_complete,
        name="accounts_passkey_register_complete",
    ),
    path("passkeys/<int:passkey_id>/rename/", two_factor_views.passkey_rename, name="accounts_passkey_rename"),
    path("passkeys/<int:passkey_id>/remove/", two_factor_views.passkey_remove, name="accounts_passkey_remove"),
    path("security/", security_views.security, name="accounts_security"),
    path("security/sign-out-everywhere/", security_views.sign_out_everywhere, name="accounts_sign_out_everywhere"),
    path("sso/", sso_views.sso_settings, name="accounts_sso_settings"),
    path("sso/start/", sso_views.sso_start, name="accounts_sso_start"),
    path("sso/domains/", sso_views.sso_domain_add, name="accounts_sso_domain_add"),
    path("sso/domains/<int:domain_id>/verify/", sso_views.sso_domain_verify, name="accounts_sso_domain_verify"),
    path("sso/domains/<int:domain_id>/remove/", sso_views.sso_domain_remove, name="accounts_sso_domain_remove"),
]
