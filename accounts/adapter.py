"""allauth adapters: where Tater's account rules plug into allauth's flows.

- ``AccountAdapter.authenticate``: account lockout (tater.lockout) and "SSO required"
  around every password check made through allauth (sign-in, re-authentication).
- ``AccountAdapter.get_login_stages``: adds the second-factor stage (accounts.stages).
- Sign-up provisioning (a tenant + first org for a self-service user) runs on allauth's
  ``user_signed_up`` signal (accounts.receivers), after the social adapter had the chance
  to give an SSO user their membership, so one rule covers both paths.
- ``SocialAccountAdapter``: tenant SSO — JIT provisioning with the tenant's default role,
  and no account is ever linked or taken over through an unverified email claim. SAML apps
  get the replay-guarded provider (accounts.saml_replay); failed SSO sign-ins are audited
  (``user.login_failed``, method sso). Global providers (Google, Microsoft) cannot be used
  to bypass a tenant's "SSO required".
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django import forms
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import render

from accounts import saml_replay, services, sso
from audit import registry as A
from audit.services import audit_record
from orgs import services as org_services
from tater import lockout

SSO_REQUIRED_MESSAGE = "Your organization requires single sign-on: use “Continue with SSO”."


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return [*super().get_login_stages(), "accounts.stages.OTPStage"]

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        email = (credentials.get("email") or credentials.get("username") or "").strip().lower()
        if email:
            # A locked account is refused before its password is even checked.
            lockout.check_account(email)
        user = super().authenticate(request, **credentials)
        if user is not None and sso.sso_required(email=email or user.email, user=user):
            raise forms.ValidationError(SSO_REQUIRED_MESSAGE, code="sso_required")
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        email = (credentials.get("email") or credentials.get("username") or "").strip().lower()
        # Audited by accounts.receivers (Django's user_login_failed); count it for lockout.
        lockout.register_failure(ip=client_ip(request), kind="password", account=email or None)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A first sign-in through a tenant IdP whose email already has an account: link
        only when the tenant owns the email's domain AND the IdP asserts the email as
        verified; otherwise refuse (the "nOAuth" takeover: an IdP user who sets someone
        else's address as an unverified email claim)."""
        config = sso.config_for_provider(sociallogin.account.provider)
        if config is None:
            _check_global_provider(request, sociallogin)
            return
        if sociallogin.is_existing or request.user.is_authenticated:
            return
        email = (sociallogin.user.email or "").strip().lower()
        if sso.email_domain(email) != config.email_domain:
            raise ImmediateHttpResponse(sso_refused(
                request, provider_id=config.provider_id, email=email,
                reason="Your identity provider did not assert an email address in this organization's domain.",
            ))
        existing = services.user_by_email(email)
        if existing is None:
            return
        if not _email_verified(sociallogin, email):
            user_login_failed.send(sender=__name__, credentials={"email": email, "method": "sso"}, request=request)
            raise ImmediateHttpResponse(
                _refuse(request, "An account with this email already exists and your identity provider did not verify the address, so it cannot be linked.")
            )
        with transaction.atomic():
            sociallogin.connect(request, existing)

    def get_app(self, request: HttpRequest, provider: str, client_id: str | None = None) -> SocialApp:
        # allauth's SAML views take their provider from the app: give them the one that
        # refuses replayed and unsolicited assertions.
        return saml_replay.guard(super().get_app(request, provider, client_id=client_id))

    def on_authentication_error(
        self, request: HttpRequest, provider: Any, error: Any = None, exception: Any = None, extra_context: Any = None,
    ) -> None:
        """A refused tenant SSO response (bad signature, expired, wrong audience, unsolicited…)
        is a failed sign-in: audit it under the tenant. Nothing in the response is trusted,
        so no email is recorded."""
        config = sso.config_for_provider(getattr(provider, "sub_id", "") or "")
        if config is not None:
            detail = (extra_context or {}).get("saml_last_error_reason") or str(error or "error")
            _audit_sso_failure(config, email="", reason=str(detail)[:200])
        super().on_authentication_error(request, provider, error=error, exception=exception, extra_context=extra_context)

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        if sso.config_for_provider(sociallogin.account.provider) is not None:
            return True  # the tenant vouches for its IdP's users: no extra sign-up form
        return super().is_auto_signup_allowed(request, sociallogin)

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    @transaction.atomic
    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        """JIT provisioning: the new user joins the tenant's default org with its default role."""
        user = super().save_user(request, sociallogin, form)
        config = sso.config_for_provider(sociallogin.account.provider)
        if config is not None:
            org = sso.provisioning_org(config)
            if org is not None:
                org_services.org_member_set(organization=org, user=user, role=config.default_role, actor=None)
            audit_record(
                action=A.USER_SSO_LINKED, tenant=config.tenant, organization=org, target=user,
                changes={"provider": config.provider_id, "provisioned": True, "role": config.default_role},
                actor_user=user,
            )
        return user


def _email_verified(sociallogin: SocialLogin, email: str) -> bool:
    return any(address.email.lower() == email and address.verified for address in sociallogin.email_addresses)


def _refuse(request: HttpRequest, reason: str, status: int = 403) -> Any:
    return render(request, "accounts/sso_refused.html", {"reason": reason}, status=status)


def _audit_sso_failure(config: Any, *, email: str, reason: str) -> None:
    audit_record(
        action=A.USER_LOGIN_FAILED, tenant=config.tenant, target=None,
        changes={"email": email, "method": "sso", "provider": config.provider_id, "reason": reason},
        actor_user=None, actor_email=email or None,
    )


def sso_refused(request: HttpRequest, *, provider_id: str, reason: str, email: str = "", status: int = 403) -> Any:
    """Audit a refused tenant SSO sign-in and render the refusal page."""
    config = sso.config_for_provider(provider_id)
    if config is not None:
        _audit_sso_failure(config, email=email, reason=reason)
    return _refuse(request, reason, status=status)


def _check_global_provider(request: HttpRequest, sociallogin: SocialLogin) -> None:
    """Google/Microsoft sign-in is not a way around a tenant's "SSO required": refused for
    members of such a tenant and for emails of its verified domain."""
    email = (sociallogin.user.email or "").strip().lower()
    user = sociallogin.user if sociallogin.is_existing else services.user_by_email(email) if email else None
    config = sso.sso_required(email=email, user=user)
    if config is not None:
        user_login_failed.send(sender=__name__, credentials={"email": email, "method": "sso"}, request=request)
        raise ImmediateHttpResponse(_refuse(request, SSO_REQUIRED_MESSAGE))
