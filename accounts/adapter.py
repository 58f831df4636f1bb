"""allauth adapters: where Tater's account rules plug into allauth's flows.

- ``AccountAdapter.authenticate``: account lockout (tater.lockout) and "SSO required"
  around every password check made through allauth (sign-in, re-authentication).
- ``AccountAdapter.get_login_stages``: adds the second-factor stage (accounts.stages).
- Sign-up provisioning (a tenant + first org for a self-service user) runs on allauth's
  ``user_signed_up`` signal (accounts.receivers), after the social adapter had the chance
  to give an SSO user their membership, so one rule covers both paths.
- ``SocialAccountAdapter``: tenant SSO — JIT provisioning with the tenant's default role,
  and no account is ever linked or taken over through an unverified email claim.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django import forms
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import render

from accounts import services, sso
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
        if sociallogin.is_existing or request.user.is_authenticated:
            return
        config = sso.config_for_provider(sociallogin.account.provider)
        if config is None:
            return
        email = (sociallogin.user.email or "").strip().lower()
        if sso.email_domain(email) != config.email_domain:
            raise ImmediateHttpResponse(_refuse(request, "Your identity provider did not assert an email address in this organization's domain."))
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


def _refuse(request: HttpRequest, reason: str) -> Any:
    return render(request, "accounts/sso_refused.html", {"reason": reason}, status=403)
