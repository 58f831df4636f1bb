"""allauth adapters: where Tater's account rules plug into allauth's flows.

- ``AccountAdapter.authenticate``: emails compared after NFKC + case folding
  (tater.emails), account lockout (tater.lockout) counted against the account whatever
  spelling reached it, and "SSO required" around every password check made through allauth
  (sign-in, re-authentication).
- ``AccountAdapter.clean_email`` / ``send_password_reset_mail``: sign-up, add-email and
  password reset see the one account every spelling names, and reset links go to the
  account's stored address, never to the spelling typed.
- ``AccountAdapter.get_login_stages``: adds the second-factor stage (accounts.stages).
- Sign-up provisioning (a tenant + first org for a self-service user) runs on allauth's
  ``user_signed_up`` signal (accounts.receivers), after the social adapter had the chance
  to give an SSO user their membership, so one rule covers both paths.
- ``SocialAccountAdapter``: tenant SSO — links and provisions only emails of a domain the
  tenant verified (accounts.domains), links an existing account only when it already
  belongs to the tenant and the IdP verified the address (otherwise its owner links it
  after signing in), JIT provisioning with the tenant's default role; an identity linked
  earlier signs its user in only while the account's email is in one of the tenant's
  verified domains. SAML apps get the
  replay-guarded provider (accounts.saml_replay); failed SSO sign-ins are audited
  (``user.login_failed``, method sso, by accounts.sso_refusals). Global providers (Google,
  Microsoft) cannot be used to bypass a tenant's "SSO required", and their URLs are a 404
  while no app is configured.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django import forms
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.contrib.sites.shortcuts import get_current_site
from django.db import transaction
from django.http import Http404, HttpRequest

from accounts import saml_replay, services, sso, sso_completion
from accounts.models import TenantSSOConfig
from accounts.sso_refusals import audit_sso_failure, refusal_page, sso_refused
from audit import registry as A
from audit.services import audit_record
from orgs import email_owners
from orgs import services as org_services
from tater import lockout, names, outbound
from tater.client_ip import client_ip
from tater.emails import nfkc, normalize_email

SSO_REQUIRED_MESSAGE = "Your organization requires single sign-on: use “Continue with SSO”."
OUTSIDE_DOMAINS_MESSAGE = (
    "Your identity provider did not assert an email address in a domain this organization has verified."
)
UNVERIFIED_EMAIL_MESSAGE = (
    "An account with this email already exists and your identity provider did not verify the address, "
    "so it cannot be linked."
)
NO_LONGER_SPEAKS_FOR_MESSAGE = (
    "Your identity provider can no longer sign in to this account: its email address is not in a domain "
    "this organization has verified."
)
ADDRESS_HELD_MESSAGE = (
    "An account with this email address already exists, so signing in here cannot create another one. "
    "If it is yours: sign in with your password, then link this sign-in method under Account security."
)
SSO_SWITCHED_OFF_MESSAGE = "Single sign-on through this identity provider is switched off."
LINK_IT_YOURSELF_MESSAGE = (
    "An account with this email address already exists, and it does not belong to this organization, "
    "so single sign-on cannot sign in to it. If it is yours: sign in with your password, then link your "
    "organization's identity provider under Account security → Link single sign-on."
)
IDP_CHANGED_MESSAGE = (
    "Your organization changed its identity provider while you were signing in. Sign in again, "
    "through its single sign-on."
)
IDPS_READ = "_tater_sso_idps_read"  # on the request: the IdPs its reads of a tenant app named

mail_logger = logging.getLogger("tater.mail")


class ProviderNotConfigured(SocialApp.DoesNotExist, Http404):
    """No SocialApp for a provider: a 404 page for its URLs (allauth's Google/Microsoft
    views let ``SocialApp.DoesNotExist`` through as a 500), while code that catches
    ``DoesNotExist`` keeps working."""


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return [*super().get_login_stages(), "accounts.stages.OTPStage"]

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client allauth's own limits (``ACCOUNT_RATE_LIMITS``) count: the address as
        the lockout counts it (``TATER_TRUSTED_PROXY_COUNT``, an IPv6 client per /64), never
        allauth's own reading, which behind the trusted proxy is the proxy: one bucket for all."""
        return lockout.client_bucket(client_ip(request))

    def clean_email(self, email: str) -> str:
        """allauth's sign-up, add-email and password-reset forms look accounts up by exact
        address: hand them the stored address of the account this spelling names, so every
        spelling finds (and collides with) that one account. A new address is kept in NFKC."""
        email = super().clean_email(email)
        if not names.is_one_line(email):
            # Django's validator admits control characters in a quoted local part; an
            # address that cannot be shown or put in a mail header is not one we keep.
            raise forms.ValidationError("Enter a valid email address.", code="invalid")
        existing = email_owners.user_by_email(email)
        return existing.email if existing is not None else nfkc(email)

    def set_password(self, user: Any, password: str) -> None:
        """A password change, set or reset writes the password only: a whole-row save of the
        account loaded with the request would undo what a deprovisioning saved meanwhile
        (``is_active``), while it waited for that change's lock (accounts.sign_in_binding)."""
        user.set_password(password)
        user.save(update_fields=["password"])

    def can_delete_email(self, email_address: Any) -> bool:
        """An address in a domain whose tenant requires SSO stays on its members' accounts:
        removing it would take the account out of the requirement (password sign-in past the
        identity provider, which could then no longer deprovision it). An address never
        verified brings no requirement (``sso.sso_required``): it stays removable."""
        if not super().can_delete_email(email_address):
            return False
        return not email_address.verified or sso.governing_config(email_address.user, email_address.email) is None

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        field = "email" if credentials.get("email") else "username"
        email = normalize_email(credentials.get(field))
        account = None
        if email:
            account = email_owners.account_holding(email)
            if account is not None and sso.sso_only_elsewhere(email, account):
                # A member whose tenant requires SSO, reached through an address outside its
                # domains: the password is not checked (right or wrong, the form's answer must
                # not tell), and the attempt fails as a wrong password does (audited, counted).
                lockout.check_account(account.email)
                make_password(str(credentials.get("password") or ""))
                failed = {"email": account.email, "password": "********"}
                user_login_failed.send(sender=__name__, credentials=failed, request=request)
                self.authentication_failed(request, **failed)
                return None
            if account is not None:
                # Counted and checked as the account, whatever address or spelling reached it;
                # Django's and allauth's backends look it up by its stored address.
                email = credentials[field] = account.email
            else:
                credentials[field] = email
            # A locked account is refused before its password is even checked.
            lockout.check_account(email)
        user = super().authenticate(request, **credentials)
        if user is not None and sso.sso_required(email=email or user.email, user=user):
            raise forms.ValidationError(SSO_REQUIRED_MESSAGE, code="sso_required")
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        email = normalize_email(credentials.get("email") or credentials.get("username"))
        # Audited by accounts.receivers (Django's user_login_failed); count it for lockout.
        # In a domain whose SSO is required only the accounts it exempts (superusers, accounts
        # outside the tenant) reach a password check: counted against the account alone, or a
        # probe of the address's lockout would tell that the address has such an account.
        exempt = bool(email) and sso.sso_required(email=email, user=None) is not None
        lockout.register_failure(ip=client_ip(request), kind="password", account=email or None, count_client=not exempt)

    def login(self, request: HttpRequest, user: Any) -> None:
        """Every sign-in allauth completes (password, SSO, the second-factor stage): the new
        session, last_login, the tracked session row and the ``user.login`` entry
        (accounts.receivers) are one transaction, so none is kept without the others."""
        with transaction.atomic():
            super().login(request, user)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Rendered now, sent once the page's transaction commits (sign-up and the email pages
        run in one with their audit entry, accounts.urls): an SMTP exchange never holds the
        tenant's audit-chain lock, and a page rolled back sends nothing. Outside a transaction:
        at once. (allauth's own send_mail, but for when the message leaves.) A mail the server
        refuses never fails the page (README, "A mail that cannot be sent"): logged, never the
        message, which carries the link."""
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context},
        )

        def send() -> None:
            try:
                message.send()
            except Exception as exc:
                mail_logger.warning("account mail %s could not be sent (%s)", template_prefix, type(exc).__name__)

        transaction.on_commit(send)

    def send_password_reset_mail(self, user: Any, email: str, context: dict[str, Any]) -> None:
        """The reset link goes to the account's own address: a look-alike spelling typed into
        the form may be somebody else's mailbox."""
        address = _stored_address(user, email)
        if address:
            super().send_password_reset_mail(user, address, context)


def _stored_address(user: Any, typed: str) -> str | None:
    key = normalize_email(typed)
    if normalize_email(user.email) == key:
        return str(user.email)
    for address in EmailAddress.objects.filter(user=user):
        if normalize_email(address.email) == key:
            return str(address.email)
    return None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A first sign-in through a tenant IdP. Its email must be in a domain the tenant
        verified (else nothing is linked or provisioned). An existing account with that
        email is linked only when it already belongs to the tenant AND the IdP asserts the
        email as verified (the "nOAuth" takeover: an IdP user who sets someone else's
        address as an unverified claim); otherwise the sign-in is refused and the account's
        owner links the IdP after signing in (allauth's "connect" process). An identity
        linked earlier signs its user in only while the IdP still speaks for them
        (``_check_linked_user``)."""
        sso_completion.begin()  # the IdP has answered: the rest of the return is one transaction
        config = sso.config_for_sign_in(sociallogin.account.provider)  # locked: an IdP change waits
        if config is None and sso.is_tenant_provider(sociallogin.account.provider):
            # A tenant IdP whose configuration is switched off (or gone) signs nobody in:
            # as a "global" provider it would provision any address it asserts.
            raise ImmediateHttpResponse(refusal_page(request, SSO_SWITCHED_OFF_MESSAGE))
        if config is None:
            _check_global_provider(request, sociallogin)
            return
        if not sso.idp_current(config, getattr(request, IDPS_READ, set())):
            # The owner changed the IdP while this sign-in was under way through the former one:
            # its subject is no identity of the connection now (docs/accounts.md, Tenant SSO).
            if sociallogin.is_existing:
                sso.retire_identity(sociallogin.account)
            raise ImmediateHttpResponse(
                sso_refused(request, provider_id=config.provider_id, reason=IDP_CHANGED_MESSAGE)
            )
        if sociallogin.is_existing:
            if sociallogin.state.get("process") != AuthProcess.CONNECT:
                _check_linked_user(request, config, sociallogin)
            return  # an identity linked earlier signs its own user in while its IdP speaks for them
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            # The signed-in user links this identity to their own account (allauth requires a
            # session and asks for the password again). Only the IdP of the tenant that
            # verified the account's own email domain can be linked to it.
            if not sso.speaks_for(config, getattr(request.user, "email", "")):
                raise ImmediateHttpResponse(
                    sso_refused(
                        request,
                        provider_id=config.provider_id,
                        email=normalize_email(getattr(request.user, "email", "")),
                        reason="This identity provider does not sign in addresses like yours, so it cannot be linked to your account.",
                    )
                )
            return
        email = normalize_email(sociallogin.user.email)
        if not sso.speaks_for(config, email):
            raise ImmediateHttpResponse(
                sso_refused(
                    request,
                    provider_id=config.provider_id,
                    email=email,
                    reason=OUTSIDE_DOMAINS_MESSAGE,
                )
            )
        # The account whose primary address it is, else the one holding it verified as an
        # additional address ("Require SSO" counts those too: its IdP must sign that person in).
        existing = email_owners.address_owner(email)
        if existing is None:
            if _email_verified(sociallogin, email):
                # The tenant proved the domain and its IdP the mailbox: an outsider's account
                # that merely added the address (a squat) no longer holds it.
                services.addresses_release_unproved(email=email, tenant=config.tenant)
            if email_owners.address_holders(email):
                # Still held (unverified, or under another spelling): refused here, as
                # save_user would, rather than allauth's form asking for another address.
                raise ImmediateHttpResponse(
                    sso_refused(request, provider_id=config.provider_id, email=email, reason=ADDRESS_HELD_MESSAGE)
                )
            return  # JIT provisioning (save_user)
        if not _email_verified(sociallogin, email):
            raise ImmediateHttpResponse(
                sso_refused(
                    request,
                    provider_id=config.provider_id,
                    email=email,
                    reason=UNVERIFIED_EMAIL_MESSAGE,
                )
            )
        if not sso.belongs_to_tenant(existing, config.tenant):
            # Audited under the IdP's tenant (below) and, through Django's signal, under the
            # account's own tenant: its people see that another tenant's IdP tried it.
            user_login_failed.send(sender=__name__, credentials={"email": email, "method": "sso"}, request=request)
            raise ImmediateHttpResponse(
                sso_refused(
                    request,
                    provider_id=config.provider_id,
                    email=email,
                    reason=LINK_IT_YOURSELF_MESSAGE,
                    link_hint=True,
                )
            )
        with transaction.atomic():
            sociallogin.connect(request, existing)

    def get_requests_session(self) -> Any:
        # The tenant chose the issuer, and its discovery document names the other endpoints:
        # public addresses only, no redirects (tater.outbound).
        return outbound.guard_session(super().get_requests_session())

    def get_app(self, request: HttpRequest, provider: str, client_id: str | None = None) -> SocialApp:
        try:
            app = super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise ProviderNotConfigured(f"No {provider} application is configured") from None
        if sso.is_tenant_provider(app.provider_id) and sso.config_for_provider(app.provider_id) is None:
            # The tenant switched its SSO off (or removed it): its app answers like a missing one.
            raise ProviderNotConfigured(f"No {provider} application is configured")
        if provider == "saml" and not (app.settings.get("idp") or {}).get("x509cert"):
            # No signing certificate (a stored private key cleared, accounts.sso): nothing to check a
            # response against, and python3-saml would fail with a server error; its owner's page asks.
            raise ProviderNotConfigured(f"No {provider} application is configured")
        if request is not None and sso.is_tenant_provider(app.provider_id):
            # Which IdP this request spoke to, each time it read the app (pre_social_login).
            setattr(request, IDPS_READ, {*getattr(request, IDPS_READ, set()), sso.idp_of_app(app)})
        # allauth's SAML views take their provider from the app: give them the one that
        # refuses replayed and unsolicited assertions.
        return saml_replay.guard(app)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A refused tenant SSO response (bad signature, expired, wrong audience, unsolicited…)
        is a failed sign-in: audit it under the tenant. Nothing in the response is trusted,
        so no email is recorded."""
        config = sso.config_for_provider(getattr(provider, "sub_id", "") or "")
        if config is not None:
            detail = (extra_context or {}).get("saml_last_error_reason") or str(error or "error")
            audit_sso_failure(config, email="", reason=str(detail)[:200])
        super().on_authentication_error(
            request, provider, error=error, exception=exception, extra_context=extra_context
        )

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        if sso.config_for_provider(sociallogin.account.provider) is not None:
            return True  # the tenant vouches for its IdP's users: no extra sign-up form
        return super().is_auto_signup_allowed(request, sociallogin)

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    @transaction.atomic
    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        """JIT provisioning: the new user joins the tenant's default org with its default role."""
        config = sso.config_for_provider(sociallogin.account.provider)
        if config is not None and not sso.speaks_for(config, sociallogin.user.email):
            # pre_social_login refused this already; provisioning never trusts that alone.
            raise ImmediateHttpResponse(
                sso_refused(
                    request,
                    provider_id=config.provider_id,
                    email=normalize_email(sociallogin.user.email),
                    reason=OUTSIDE_DOMAINS_MESSAGE,
                )
            )
        asserted = [sociallogin.user.email, *(address.email for address in sociallogin.email_addresses)]
        if any(email_owners.address_holders(address) for address in asserted if address):
            # An account holds one of its addresses under another spelling (``straße@`` for
            # ``strasse@``): a second account would share the address (orgs.email_owners).
            if config is None:
                raise ImmediateHttpResponse(refusal_page(request, ADDRESS_HELD_MESSAGE))
            raise ImmediateHttpResponse(
                sso_refused(
                    request,
                    provider_id=config.provider_id,
                    email=normalize_email(sociallogin.user.email),
                    reason=ADDRESS_HELD_MESSAGE,
                )
            )
        user = super().save_user(request, sociallogin, form)
        if config is not None:
            org = sso.provisioning_org(config)
            if org is not None:
                org_services.org_member_set(organization=org, user=user, role=config.default_role, actor=None)
            audit_record(
                action=A.USER_SSO_LINKED,
                tenant=config.tenant,
                organization=org,
                target=user,
                changes={"provider": config.provider_id, "provisioned": True, "role": config.default_role},
                actor_user=user,
            )
        return user


def _check_linked_user(request: HttpRequest, config: TenantSSOConfig, sociallogin: SocialLogin) -> None:
    """An identity linked earlier signs its user in only while the IdP still speaks for
    them: the account's email (now, not when it was linked) is in a domain the IdP's
    tenant verified. Otherwise someone who left the tenant and moved their account to an
    address of their own would stay reachable by its IdP's admin, in whatever tenant they
    are now part of. Membership is not required: SPEC §8 lets an account outside the
    tenant, in its domains, link the IdP itself (its owner, after signing in), and the
    tenant controls the mailboxes of its verified domains anyway."""
    user = sociallogin.user
    if sso.speaks_for(config, user.email):
        return
    # Under the IdP's tenant only the address its IdP asserted: the account's own address
    # may now be another tenant's business. The account's tenant learns of the attempt
    # through Django's signal (accounts.receivers).
    asserted = next((normalize_email(address.email) for address in sociallogin.email_addresses), "")
    if asserted and sso.speaks_for(config, asserted) and email_owners.address_owner(asserted) == user:
        return  # the address it asserts is one this account still holds verified, in its domains
    user_login_failed.send(sender=__name__, credentials={"email": user.email, "method": "sso"}, request=request)
    raise ImmediateHttpResponse(
        sso_refused(
            request,
            provider_id=config.provider_id,
            email=asserted,
            reason=NO_LONGER_SPEAKS_FOR_MESSAGE,
        )
    )


def _email_verified(sociallogin: SocialLogin, email: str) -> bool:
    return any(normalize_email(address.email) == email and address.verified for address in sociallogin.email_addresses)


def _check_global_provider(request: HttpRequest, sociallogin: SocialLogin) -> None:
    """Google/Microsoft sign-in is not a way around a tenant's "SSO required": refused for
    members of such a tenant in its verified domains and for new emails of those domains."""
    email = normalize_email(sociallogin.user.email)
    user = sociallogin.user if sociallogin.is_existing else email_owners.user_by_email(email) if email else None
    config = sso.sso_required(email=email, user=user)
    if config is not None:
        user_login_failed.send(sender=__name__, credentials={"email": email, "method": "sso"}, request=request)
        raise ImmediateHttpResponse(refusal_page(request, SSO_REQUIRED_MESSAGE))
