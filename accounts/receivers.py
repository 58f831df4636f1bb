"""Signal receivers (connected in AccountsConfig.ready). They hold no rules of their own:
each forwards to a service or writes the audit entry for an event Django/allauth raise
from several places (UI, JSON API, admin), so every path is recorded exactly once."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as allauth_signals
from allauth.account.models import EmailAddress
from allauth.socialaccount import signals as social_signals
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest

from accounts import notices, services, sso
from accounts.identity_tenant import identity_tenant
from audit import registry as A
from audit.models import AuditEvent
from audit.services import audit_record
from orgs import email_owners
from orgs.models import OrgMembership, TenantMembership
from tater.emails import normalize_email


def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    services.session_started(request=request, user=user)
    device = getattr(user, "otp_device", None)
    changes: dict[str, Any] = {"second_factor": bool(device)}
    if device:
        changes["method"] = services.second_factor_method(device)  # totp, recovery_code, passkey
    audit_record(action=A.USER_LOGIN, tenant=services.home_tenant(user), target=user, changes=changes, actor_user=user)


@transaction.atomic
def _on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # One unit, whichever page signs out (allauth's, the API's, the admin's, SAML's): Django
    # flushes the session only after this returns, so an entry that cannot be written fails
    # the sign-out with the session still tracked ("sign out everywhere" still reaches it).
    if request is not None and hasattr(request, "session"):
        services.session_ended(session_key=request.session.session_key)
    if user is not None:
        audit_record(action=A.USER_LOGOUT, tenant=services.home_tenant(user), target=user, actor_user=user)


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    email = normalize_email(str(credentials.get("email") or credentials.get("username") or ""))[:254]
    user = email_owners.user_by_email(email) if email else None
    if user is not None:
        # Named by the account's own address, as its sign-ins and every other entry about it
        # are, whatever spelling reached it (SPEC §8): filtering the Activity Log by the
        # person's address finds the failed attempts too.
        email = user.email
    audit_record(
        action=A.USER_LOGIN_FAILED,
        tenant=services.home_tenant(user),
        target=user,
        changes={"email": email, "method": str(credentials.get("method") or "password")},
        actor_user=None,
        actor_email=email,
    )


def _on_password_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _password_replaced(request, user, via="change")


def _on_password_set(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _password_replaced(request, user, via="set")  # a first password (e.g. an SSO-only account)


@transaction.atomic
def _password_replaced(request: HttpRequest, user: Any, *, via: str) -> None:
    # Django signed the other sessions out (session hash) and gave this one a new id
    # (update_session_auth_hash): end the others on the server and track this one under its
    # new id, or "sign out everywhere" and a password reset would no longer reach it.
    session = getattr(request, "session", None)
    current = session.session_key if session is not None and request.user.is_authenticated else None
    if session is not None and current and not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        # Deactivated while this change waited for the account's row (a deprovisioning ends
        # its sessions first): this one ends too, none stays for a reactivation to revive.
        session.flush()
        current = None
    services.sessions_end_all(user=user, keep=current)
    if current:
        services.session_started(request=request, user=user)
    audit_record(
        action=A.USER_PASSWORD_CHANGED,
        tenant=services.home_tenant(user),
        target=user,
        changes={"via": via},
        actor_user=user,
    )


@transaction.atomic
def _on_password_reset(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # Whoever held a session before the reset (possibly the attacker) is signed out.
    ended = services.sessions_end_all(user=user)
    audit_record(
        action=A.USER_PASSWORD_CHANGED,
        tenant=services.home_tenant(user),
        target=user,
        changes={"via": "reset", "sessions_ended": ended},
        actor_user=user,
    )


def _on_signed_up(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    services.signup_provision(user=user)


def _on_social_account_added(sender: Any, request: HttpRequest, sociallogin: Any, **kwargs: Any) -> None:
    user = sociallogin.user
    audit_record(
        action=A.USER_SSO_LINKED,
        tenant=identity_tenant(user, sociallogin.account.provider),
        target=user,
        changes={"provider": sociallogin.account.provider},
        actor_user=user,
    )


def _on_social_account_removed(sender: Any, request: HttpRequest, socialaccount: Any, **kwargs: Any) -> None:
    # The account's "Connected identity providers" page (the admin audits its own unlink).
    sso.identity_unlinked(link=socialaccount, actor=socialaccount.user)


def _audit_email(user: Any, changes: dict[str, Any]) -> None:
    # Changed on allauth's email page, or verified in the admin (its bulk action).
    services.email_address_changed(user=user, changes=changes)


def _on_email_added(sender: Any, request: HttpRequest | None, user: Any, email_address: Any, **kwargs: Any) -> None:
    _audit_email(user, {"added": email_address.email})


def _on_email_confirmed(sender: Any, request: HttpRequest | None, email_address: Any, **kwargs: Any) -> None:
    _audit_email(email_address.user, {"verified": email_address.email})


def _on_email_changed(
    sender: Any, request: HttpRequest | None, user: Any, from_email_address: Any, to_email_address: Any, **kwargs: Any
) -> None:
    _audit_email(user, {"primary": {"from": getattr(from_email_address, "email", None), "to": to_email_address.email}})


def _on_email_removed(sender: Any, request: HttpRequest | None, user: Any, email_address: Any, **kwargs: Any) -> None:
    _audit_email(user, {"removed": email_address.email})


def _on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    # Deactivation may come from the admin, a command or a service: catching it at the
    # model keeps "an inactive user has no session and no working key" true on every path.
    if not created and not instance.is_active:
        services.user_deactivated(user=instance)


def _on_membership_created(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    # A person's first membership anywhere names their home tenant, once (an update, not a
    # save: the key check re-reads an owner's keys on every save of the user row). With no
    # home stored (never set, or its tenant deleted), the home is the tenant they joined
    # first among those they belong to now, not this newest membership's: another tenant
    # adding the person must not take their sign-ins.
    if created:
        users = get_user_model().objects.filter(pk=instance.user_id, home_tenant__isnull=True)
        if users.exists():
            home = services.first_joined_tenant(instance.user)
            users.update(home_tenant=home)


def _address_lower_cased(sender: Any, instance: EmailAddress, **kwargs: Any) -> None:
    # allauth keeps addresses lower-cased and orgs.email_owners finds them by a lower-cased,
    # case-sensitive (indexed) prefix: a row written otherwise (SCIM, the admin) would hide.
    if instance.email:
        instance.email = instance.email.lower()


def connect() -> None:
    pre_save.connect(_address_lower_cased, sender=EmailAddress, dispatch_uid="accounts.address_lower_cased")
    user_logged_in.connect(_on_logged_in, dispatch_uid="accounts.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="accounts.logged_out")
    user_login_failed.connect(_on_login_failed, dispatch_uid="accounts.login_failed")
    allauth_signals.password_changed.connect(_on_password_changed, dispatch_uid="accounts.password_changed")
    allauth_signals.password_set.connect(_on_password_set, dispatch_uid="accounts.password_set")
    allauth_signals.password_reset.connect(_on_password_reset, dispatch_uid="accounts.password_reset")
    allauth_signals.user_signed_up.connect(_on_signed_up, dispatch_uid="accounts.signed_up")
    allauth_signals.email_added.connect(_on_email_added, dispatch_uid="accounts.email_added")
    allauth_signals.email_confirmed.connect(_on_email_confirmed, dispatch_uid="accounts.email_confirmed")
    allauth_signals.email_changed.connect(_on_email_changed, dispatch_uid="accounts.email_changed")
    allauth_signals.email_removed.connect(_on_email_removed, dispatch_uid="accounts.email_removed")
    social_signals.social_account_added.connect(_on_social_account_added, dispatch_uid="accounts.social_added")
    social_signals.social_account_removed.connect(_on_social_account_removed, dispatch_uid="accounts.social_removed")
    post_save.connect(_on_user_saved, sender=get_user_model(), dispatch_uid="accounts.user_saved")
    post_save.connect(notices.on_audit_entry, sender=AuditEvent, dispatch_uid="accounts.security_notice")
    post_save.connect(_on_membership_created, sender=TenantMembership, dispatch_uid="accounts.home_tenant_t")
    post_save.connect(_on_membership_created, sender=OrgMembership, dispatch_uid="accounts.home_tenant_o")
