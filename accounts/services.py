"""Every write in accounts: sessions, sign-up provisioning, 2FA devices and recovery codes
(the JSON sign-in's second step: accounts.challenges). Audit entries are written in the same transaction."""

from __future__ import annotations

import math
from typing import Any

import django_otp
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import recovery, signals
from accounts.app_settings import app_settings
from accounts.models import RecoveryCode, RecoveryCodeDevice, UserSession
from accounts.sign_in_binding import pending_sign_ins_end
from audit import registry as A
from audit.services import audit_record
from orgs import email_owners
from orgs import services as org_services
from orgs.models import OrgMembership, Tenant, TenantMembership
from tater import context, names
from tater.emails import normalize_email
from tater.exceptions import DomainError, InvalidInput

TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
NO_PENDING = "Start the enrolment again: no pending authenticator"


class InvalidOTP(DomainError):
    status_code = 401
    code = "INVALID_OTP"

    def __init__(self, message: str = "Invalid or already used verification code") -> None:
        super().__init__(message)


class EnrolmentDone(InvalidInput):
    """The authenticator being confirmed was confirmed meanwhile, in another tab."""

    def __init__(self) -> None:
        super().__init__(
            "This authenticator app was just set up in another tab or window: its recovery codes are shown "
            "there (if you did not save them, generate new ones).",
            field="code",
        )


class EnrolmentReplaced(InvalidInput):
    """The QR code the confirming page showed is no longer the enrolment in place: the setup
    page was opened again (another tab or window) and started another."""

    def __init__(self) -> None:
        super().__init__(
            "This QR code was replaced: two-factor setup was started again in another tab or window. "
            "Scan the new QR code below (delete the old entry from your authenticator app) and enter "
            "the code it shows."
        )


class OTPThrottled(InvalidOTP):
    """The device refuses any code for a while after wrong ones (django-otp's throttling:
    1, 2, 4, ... seconds): the code was not even checked, so the message says to wait
    rather than that the code is wrong."""

    def __init__(self, wait_seconds: int) -> None:
        self.wait_seconds = wait_seconds
        unit = "second" if wait_seconds == 1 else "seconds"
        super().__init__(f"Too many attempts: wait {wait_seconds} {unit} and try the code again")


def throttle_wait(device: Any) -> int | None:
    """Seconds until ``device`` accepts a code again (django-otp's ``verify_is_allowed``),
    or None when it accepts one now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (data or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def home_tenant(user: Any) -> Tenant | None:
    """The tenant an account event is filed under: the person's home tenant (the tenant of
    their first membership, stored once: ``User.home_tenant``) while they still belong to
    it, else the tenant they joined first among those they belong to now. Never simply
    "the first membership row now": another tenant's owner can add a verified address
    directly, and a reorganisation at home (moved between orgs, deprovisioned and
    reprovisioned) would then hand that tenant the person's sign-ins (times, addresses,
    user agents)."""
    if user is None or getattr(user, "pk", None) is None:
        return None
    home = get_user_model().objects.filter(pk=user.pk).values_list("home_tenant_id", flat=True).first()
    if home is not None and _belongs(user, home):
        return Tenant.objects.filter(pk=home).first()
    return first_joined_tenant(user)


def _belongs(user: Any, tenant_pk: int) -> bool:
    return (
        TenantMembership.objects.filter(user=user, tenant_id=tenant_pk).exists()
        or OrgMembership.objects.filter(user=user, organization__tenant_id=tenant_pk).exists()
    )


def first_joined_tenant(user: Any) -> Tenant | None:
    """The tenant of the user's oldest membership, by a tenant role or an org role alike."""
    by_tenant_role = (
        TenantMembership.objects.filter(user=user).order_by("created_at", "pk").values_list("created_at", "tenant_id")
    ).first()
    by_org_role = (
        OrgMembership.objects.filter(user=user)
        .order_by("created_at", "pk")
        .values_list("created_at", "organization__tenant_id")
    ).first()
    candidates = [m for m in (by_tenant_role, by_org_role) if m is not None]
    if not candidates:
        return None
    _, tenant_pk = min(candidates, key=lambda m: m[0])  # a tie keeps the tenant role's
    return Tenant.objects.filter(pk=tenant_pk).first()


# --- Operators (the Django admin) -------------------------------------------------


def email_addresses_forget_others(*, user: Any) -> int:
    """After an account's email was changed for it (by the directory or an operator): the
    other addresses no longer reach it (sign-in, password reset, invitations), since the
    change is often made because that mailbox now belongs to someone else. How many went."""
    current = normalize_email(user.email)
    stale = [a.pk for a in EmailAddress.objects.filter(user=user) if normalize_email(a.email) != current]
    EmailAddress.objects.filter(pk__in=stale).delete()
    return len(stale)


def addresses_release_unproved(*, email: str, tenant: Any) -> int:
    """SPEC §8: ``email``, in a domain ``tenant`` proved through DNS and vouched for by its
    identity provider or directory, leaves the accounts outside the tenant that merely added
    it (never verified, not their sign-in address): an outsider adding a company's addresses to
    their own account must not stop the company's IdP from giving them to their owners. Each such
    account's log says so, as the system's doing: nothing of the tenant, its IdP or directory
    token, or the new owner's request (their IP) reaches another tenant's log. How many went."""
    rows = EmailAddress.objects.select_related("user").filter(pk__in=email_owners.unproved_holds(email, outside=tenant))
    released = 0
    anonymous: dict[str, Any] = {"channel": "system", "ip": None, "user_agent": "", "user_id": None, "extra": {}}
    for row in rows:
        with context.override(**anonymous, api_key_id=None, api_key_public_id=None):
            audit_record(
                action=A.USER_EMAIL_CHANGED,
                tenant=home_tenant(row.user),
                target=row.user,
                changes={"released": row.email},
            )
        row.delete()
        released += 1
    return released


def user_write_ahead(*, user: Any) -> None:
    """Before an operator writes ``user`` (changes or deletes it): what the apps above lock
    ahead of the account's row is locked now (``accounts.signals.account_write_ahead``)."""
    signals.account_write_ahead.send(sender=__name__, user=user)


def user_saved_by_operator(*, user: Any, created: bool, changes: dict[str, Any]) -> None:
    """Audit an account an operator created or changed in the admin (the actor and channel
    ``admin`` come from the request context). ``changes`` never holds the password hash.
    A changed email is the only address that reaches the account, as when SCIM changes it."""
    if not created and "email" in changes:
        changes = {**changes, "addresses_removed": email_addresses_forget_others(user=user)}
    action = A.USER_CREATED if created else A.USER_UPDATED
    audit_record(action=action, tenant=home_tenant(user), target=user, changes=changes)
    if not created and "is_active" in changes:
        signals.account_active_set_by_operator.send(sender=__name__, user=user, active=user.is_active)


def user_password_set_by_operator(*, user: Any) -> None:
    """A password an operator set in the admin (typically answering a compromise): every
    session of the account ends, as after a reset; audited, never the value."""
    ended = sessions_end_all(user=user)
    audit_record(
        action=A.USER_PASSWORD_CHANGED,
        tenant=home_tenant(user),
        target=user,
        changes={"via": "operator", "sessions_ended": ended},
    )


def operator_group_changed(*, group: Any, action: str, changes: dict[str, Any]) -> None:
    """Audit an operator group created, changed or deleted in the admin: which admin powers
    its members hold is what the log is for (platform-wide: no tenant)."""
    audit_record(action=action, tenant=None, target=group, changes=changes)


def email_address_changed(*, user: Any, changes: dict[str, Any]) -> None:
    """Audit a change to an account's addresses (its sign-in name, where its mail goes, what
    invitations and SSO routing match: SPEC §7), on the account's page or in the admin."""
    audit_record(action=A.USER_EMAIL_CHANGED, tenant=home_tenant(user), target=user, changes=changes)


@transaction.atomic
def user_deleted_by_operator(*, user: Any) -> None:
    """Audit an account an operator deletes, before it goes (its tenant is read from the
    memberships the deletion removes). Its roles end through the membership services first,
    so every tenant it leaves records it (``member.removed``, pending invitations to it
    withdrawn) and none loses its last owner (``Conflict``)."""
    # The person's SCIM Users before anything (they lose the account last): a directory's
    # change takes them first too. Then tenant roles: they lock the tenant row, which key
    # creation locks before the creator's memberships; ending a membership first would
    # deadlock with it. The account's row before its factors, as a passkey's answer takes them;
    # the recovery codes' device before its codes, as a code's check takes them (the deletion
    # would remove the codes first).
    user_write_ahead(user=user)
    type(user).objects.select_for_update().only("pk").filter(pk=user.pk).first()
    RecoveryCodeDevice.delete_for(user)
    home = home_tenant(user)
    for tenant_membership in TenantMembership.objects.filter(user=user).select_related("tenant"):
        org_services.tenant_member_set(tenant=tenant_membership.tenant, user=user, role=None)
    for membership in OrgMembership.objects.filter(user=user).select_related("organization__tenant"):
        org_services.org_member_set(organization=membership.organization, user=user, role=None)
    # Invitations sent while they had a role that ended earlier without withdrawing them (a
    # directory's deprovisioning keeps them for a return): a deletion is final.
    for tenant in Tenant.objects.filter(organizations__invitations__invited_by=user).distinct():
        org_services.sent_invitations_recheck(tenant=tenant, inviter=user, actor=None)
    audit_record(action=A.USER_DELETED, tenant=home, target=user, changes={"email": {"from": user.email}})


# --- Sessions ---------------------------------------------------------------------


def session_started(*, request: HttpRequest, user: Any) -> str:
    """After every sign-in: a fresh session id (Django keeps the old one when the same user
    signs in again) and a row that lets "sign out everywhere" find the session."""
    old_key = request.session.session_key
    request.session.cycle_key()
    key = request.session.session_key
    if old_key:
        UserSession.objects.filter(session_key=old_key).delete()
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip": getattr(request, "client_ip", None) or None,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512],
        },
    )
    UserSession.objects.filter(user=user).exclude(session_key=key).forget_ended()  # no pile of dead rows
    return key  # type: ignore[return-value]


def session_ended(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end_all(*, user: Any, keep: str | None = None) -> int:
    """Delete every server-side session of ``user`` (except ``keep``): they are signed out
    on their next request everywhere, and sign-ins waiting for a second factor never finish."""
    pending_sign_ins_end(user)
    tracked = UserSession.objects.filter(user=user)
    if keep:
        tracked = tracked.exclude(session_key=keep)
    ended = tracked.signed_in().count()  # not the rows of sessions that ended on their own
    keys = list(tracked.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    tracked.delete()
    return ended


@transaction.atomic
def sessions_ended(*, user: Any, keep: str | None = None, via: str) -> int:
    """Sign ``user`` out everywhere (but ``keep``), audited: "sign out everywhere" (``via``
    ``user``) and an incident answered in the admin (``operator``)."""
    ended = sessions_end_all(user=user, keep=keep)
    audit_record(
        action=A.USER_SESSIONS_ENDED,
        tenant=home_tenant(user),
        target=user,
        changes={"via": via, "sessions_ended": ended},
    )
    return ended


@transaction.atomic
def session_ended_by_operator(*, tracked: UserSession) -> None:
    """One signed-in session an operator ends in the admin: the server-side session goes with
    its row (the row alone is only what lets "sign out everywhere" find it), audited. An
    operator answering an incident ends the account's sign-ins waiting for a second step too."""
    pending_sign_ins_end(tracked.user)  # the sign-out rows' order: accounts.sign_in_binding
    Session.objects.filter(session_key=tracked.session_key).delete()
    tracked.delete()
    audit_record(
        action=A.USER_SESSIONS_ENDED,
        tenant=home_tenant(tracked.user),
        target=tracked.user,
        changes={"via": "operator", "sessions_ended": 1, "ip": tracked.ip},
    )


def user_deactivated(*, user: Any) -> None:
    """A deactivated user loses every session (and every key: the key check re-reads
    owners on any change to the user row)."""
    sessions_end_all(user=user)


# --- Sign-up ----------------------------------------------------------------------


@transaction.atomic
def signup_provision(*, user: Any) -> Tenant | None:
    """A user who signed up on their own (no tenant, no org) gets a tenant they own with a
    first organization, so the product is usable right away. Users who arrive with a
    membership (SSO provisioning, invitations) get nothing extra. ``user.signed_up`` is filed
    under the home tenant (this new one, or the one they arrived with), as account events are."""
    tenant = None
    if not (TenantMembership.objects.filter(user=user).exists() or OrgMembership.objects.filter(user=user).exists()):
        name = app_settings.SIGNUP_TENANT_NAME.format(email=user.email)[:200]
        try:  # an address with control characters (made outside sign-up) or a live key in it
            name = names.clean_name(name, what="Tenant name", max_length=200)
        except InvalidInput:
            name = app_settings.SIGNUP_TENANT_NAME.format(email=user.public_id)
        tenant = org_services.tenant_create(name=name, owner=user)
        org_services.org_create(tenant=tenant, name=app_settings.SIGNUP_ORG_NAME, actor=user)
    changes = {"email": {"to": user.email}}
    audit_record(action=A.USER_SIGNED_UP, tenant=home_tenant(user), target=user, changes=changes, actor_user=user)
    return tenant


# --- Two-factor devices -----------------------------------------------------------


def totp_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_2fa(user: Any) -> bool:
    """Any confirmed django-otp device: a TOTP app, recovery codes or a passkey."""
    return bool(user and user.is_authenticated and django_otp.user_has_device(user, confirmed=True))


def has_code_factor(user: Any) -> bool:
    """A confirmed factor answered with a typed code (a TOTP app or recovery codes), not a passkey
    only: what a script's ``code`` can be."""
    return any(
        isinstance(device, TOTPDevice | RecoveryCodeDevice)
        for device in django_otp.devices_for_user(user, confirmed=True)
    )


def second_factor_method(device: Any) -> str:
    """How a device is named in audit entries: ``totp``, ``recovery_code``, ``passkey``."""
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, RecoveryCodeDevice):
        return "recovery_code"
    if isinstance(device, WebAuthnCredential):
        return "passkey"
    return str(type(device)._meta.model_name)


def second_factor_methods(user: Any) -> list[str]:
    """The kinds of second factor ``user`` has confirmed, e.g. ``["passkey", "totp"]``."""
    return sorted({second_factor_method(d) for d in django_otp.devices_for_user(user, confirmed=True)})


@transaction.atomic
def totp_enrolment_start(*, user: Any) -> TOTPDevice:
    """An unconfirmed TOTP device (its secret is shown as a QR code until confirmed)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def totp_enrolment_shown(device: TOTPDevice) -> str:
    """What the setup page carries of the secret its QR code shows (a keyed digest, never the
    secret): the confirmation enables only that enrolment."""
    return salted_hmac("accounts.totp_enrolment_shown", device.key).hexdigest()


def pending_totp_device(user: Any, *, shown: str | None = None) -> TOTPDevice | None:
    """The newest enrolment waiting for its code; with ``shown``, the one whose QR code the
    page showed (None once it was replaced)."""
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk")
    if shown is None:
        return pending.first()
    return next((d for d in pending if constant_time_compare(totp_enrolment_shown(d), shown)), None)


def _new_recovery_codes(user: Any) -> list[str]:
    """A new set of ten codes in place of any other (in the caller's transaction). The
    account's row is locked first, as every change of its factors: two requests at once (a
    double click on "Generate recovery codes" where there were none) would each find no set
    to replace and both sets would work, one of them on a page nobody saw."""
    get_user_model().objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
    RecoveryCodeDevice.delete_for(user)
    device = RecoveryCodeDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [recovery.generate() for _ in range(recovery.COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, digest=recovery.digest(code)) for code in codes)
    return codes


def totp_enrolment_confirm(*, user: Any, code: str, shown: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the enrolment whose QR code the page showed (``shown``: its
    :func:`totp_enrolment_shown`) with a code from the app; returns the device and the ten
    recovery codes (shown once). Any earlier TOTP device is replaced. Another enrolment
    started since (another tab) is never the one confirmed: :class:`EnrolmentReplaced`."""
    device = pending_totp_device(user, shown=shown)
    if device is None:
        raise EnrolmentReplaced() if pending_totp_device(user) else InvalidInput(NO_PENDING, field="code")
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None:  # replaced since it was read
            raise EnrolmentReplaced()
        wait = throttle_wait(locked)
        if wait is not None:
            raise OTPThrottled(wait)
        accepted = locked.verify_token(_digits(code))
    if not accepted:  # outside the block: the throttle counter stays committed
        raise InvalidOTP("That code does not match; check the time on your phone and try again")
    with transaction.atomic():
        # The account's row first, as every change of its factors; then the device: still
        # pending, or another tab confirmed it (or began another enrolment) meanwhile.
        get_user_model().objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
        state = TOTPDevice.objects.select_for_update().filter(pk=locked.pk).values_list("confirmed", flat=True).first()
        if state is not False:
            raise EnrolmentDone() if state else EnrolmentReplaced()
        replaced = [kind for kind in second_factor_methods(user) if kind in ("recovery_code", "totp")]
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        changes: dict[str, Any] = {"method": "totp"}
        if replaced:  # a new phone: the old authenticator and codes stop working (said so)
            changes["replaced"] = replaced
        audit_record(action=A.MFA_ENABLED, tenant=home_tenant(user), target=user, changes=changes, actor_user=user)
    return locked, codes


@transaction.atomic
def recovery_codes_regenerate(*, user: Any) -> list[str]:
    """A new set of ten codes; the old set stops working."""
    codes = _new_recovery_codes(user)
    audit_record(action=A.MFA_RECOVERY_REGENERATED, tenant=home_tenant(user), target=user, actor_user=user)
    return codes


def _digits(code: str) -> str:
    return "".join((code or "").split())


def verify_second_factor(*, user: Any, code: str) -> Any | None:
    """The device that accepts ``code`` (a TOTP code or a recovery code), or None.

    Goes through django-otp's ``verify_token``, which locks the device row
    (SELECT ... FOR UPDATE) so a TOTP code cannot be replayed by concurrent requests, and
    keeps django-otp's throttling: a throttled device refuses even a right code, so when
    every device that could take the code is throttled this raises :class:`OTPThrottled`
    (with the wait) instead of answering as if the code were wrong."""
    code = (code or "").strip()
    if not code or len(code) > 64:
        return None
    if recovery.looks_like_recovery_code(code):
        devices: list[Any] = list(RecoveryCodeDevice.objects.filter(user=user, confirmed=True))
    else:
        code = _digits(code)
        devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    waits = []
    for device in devices:
        wait = throttle_wait(device)
        if wait is not None:
            waits.append(wait)
            continue
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    if waits and len(waits) == len(devices):
        raise OTPThrottled(min(waits))
    return None
