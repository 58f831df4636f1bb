"""Turning two-factor authentication off (kept out of accounts.services, which is full),
the tenant policy "require 2FA" that may forbid it, an operator's removal of a lost device,
and the audit entry of a second factor passed outside a sign-in."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import django_otp
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import RecoveryCodeDevice, UserSession
from accounts.services import (
    home_tenant,
    second_factor_method,
    second_factor_methods,
    session_started,
    sessions_ended,
)
from accounts.sign_in_binding import pending_sign_ins_end, sign_out_rows_lock
from audit import registry as A
from audit.services import audit_record
from orgs.models import OrgMembership, TenantMembership
from tater.exceptions import NotPermitted

DISABLE_REFUSED = (
    "Your tenant requires two-factor authentication: it cannot be turned off while you belong to it. "
    "Replace a lost authenticator or passkey instead."
)
LAST_FACTOR_REFUSED = (
    "Your tenant requires two-factor authentication: add another authenticator app or passkey "
    "before removing your last one."
)


class SecondFactorRequired(NotPermitted):
    """A member of a tenant requiring 2FA tried to leave their account without a factor."""


def requires_2fa(user: Any, *, tenant_pk: int | None = None, excluding: Collection[int] = ()) -> bool:
    """Whether a tenant ``user`` belongs to (directly or through an org) requires 2FA; with
    ``tenant_pk``, that tenant only (an identity-provider token reaches its own tenant alone);
    never the tenants ``excluding`` names (those a session may not reach: their policy has
    nothing there to guard)."""
    tenants = TenantMembership.objects.filter(user=user, tenant__require_2fa=True)
    orgs = OrgMembership.objects.filter(user=user, organization__tenant__require_2fa=True)
    if tenant_pk is not None:
        tenants, orgs = tenants.filter(tenant_id=tenant_pk), orgs.filter(organization__tenant_id=tenant_pk)
    if excluding:
        tenants = tenants.exclude(tenant_id__in=list(excluding))
        orgs = orgs.exclude(organization__tenant_id__in=list(excluding))
    return tenants.exists() or orgs.exists()


@transaction.atomic
def mfa_disable(*, user: Any) -> None:
    """Remove every second factor: TOTP, recovery codes, passkeys (callers check the
    password first). Audited ``mfa.disabled`` with the kinds removed; an account that had
    none changes nothing and records nothing. Refused (:class:`SecondFactorRequired`) for a
    member of a tenant requiring 2FA: the account would rest on its password until the next
    sign-in, where whoever holds the password would enrol a factor of their own (Sentry
    refuses to delete such a member's last authenticator; operators still remove a lost
    device in the admin). The account's row first, as every change of its factors (an
    operator's removal, a passkey's), so neither waits for the other's factors in turn."""
    get_user_model().objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)  # request.user: lazy
    removed = second_factor_methods(user)
    if removed and requires_2fa(user):
        raise SecondFactorRequired(DISABLE_REFUSED)
    RecoveryCodeDevice.delete_for(user)
    for model in (TOTPDevice, WebAuthnCredential):
        model.objects.filter(user=user).delete()  # pending (unconfirmed) devices too
    if removed:
        audit_record(
            action=A.MFA_DISABLED,
            tenant=home_tenant(user),
            target=user,
            changes={"methods_removed": removed},
            actor_user=user,
        )


@transaction.atomic
def mfa_device_remove(*, device: Any, keep: str | None = None) -> None:
    """An operator deletes one second-factor device (a lost phone, a lost passkey) in the
    admin. When no authenticator app or passkey is left, the recovery codes go too (the admin
    lists none): the person signs in with the password and enrols again (at once where the
    tenant requires 2FA), instead of being asked for codes lost with the phone, as when the
    owner removes their last passkey. Audited ``mfa.disabled`` with ``second_factor_left``.

    Every session of the account but ``keep`` (the operator's own, removing their own lost
    factor) ends, and so do sign-ins waiting for their second step, as when the person
    replaces a factor themselves: whoever holds the lost phone may have passed the factor
    with it, and removing it is how the person gets the account back."""
    user = device.user
    type(user).objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)  # one at a time
    method = second_factor_method(device)
    deleted, _ = device.delete()
    if not deleted:
        return  # gone meanwhile ("Turn off", another operator): nothing removed, nothing to audit
    left = (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )
    changes: dict[str, Any] = {"method": method, "device": device.name, "by": "operator", "second_factor_left": left}
    codes_removed = not left and RecoveryCodeDevice.delete_for(user) > 0
    if codes_removed:
        changes["methods_removed"] = [method, "recovery_code"]  # the owner's notice names both
    # The sign-out rows before the audit chain (the lock order: accounts.sign_in_binding). An
    # abandoned enrolment (unconfirmed) never verified anyone: nothing to end for it alone.
    if device.confirmed or codes_removed:
        factor_changed_sign_out(user=user, keep=keep)
    audit_record(action=A.MFA_DISABLED, tenant=home_tenant(user), target=user, changes=changes)


def factor_changed_sign_out(*, user: Any, keep: str | None) -> bool:
    """A second factor changed (by its owner or an operator): every session of the account but
    ``keep`` ends (audited ``user.sessions_ended``, ``via: second_factor_changed``), and so do
    sign-ins waiting for a second step. Whether any session was ended."""
    if UserSession.objects.filter(user=user).exclude(session_key=keep or "").signed_in().exists():
        sessions_ended(user=user, keep=keep, via="second_factor_changed")  # audited
        return True
    pending_sign_ins_end(user)  # no session to end, but sign-ins waiting for a second step
    return False


@transaction.atomic
def session_stepped_up(*, request: HttpRequest, user: Any, device: Any) -> bool:
    """A signed-in session passed its second factor (a step-up): a fresh id, as after a
    sign-in, verified and audited, with the account's sign-out rows locked. False, nothing
    done, when the session was ended meanwhile ("sign out everywhere", an operator): Django
    would copy the ended session's data under the new id, signed in again and verified."""
    sign_out_rows_lock(user)
    if not Session.objects.filter(session_key=request.session.session_key).exists():
        return False
    session_started(request=request, user=user)
    django_otp.login(request, device)
    second_factor_verified(user=user, device=device)
    return True


def session_keeps_verification(request: HttpRequest, *, removed: str) -> None:
    """The session that removed the factor it passed with (a passkey, an operator's own lost
    device) stays verified while the account has another factor, as every session making a
    change to its factors does (README: "the session making the change stays signed in and
    verified"). django-otp ties a session's verification to the device it passed with, so
    left alone it would be unverified at once: a tenant requiring 2FA would send its member to
    the step-up check, an operator would lose the admin. The removed device verifies nothing.
    ``removed``: its ``persistent_id``, taken before it was deleted (a deleted row has no pk)."""
    user = getattr(request, "user", None)
    passed = getattr(user, "otp_device", None)
    if user is None or passed is None or passed.persistent_id != removed:
        return
    left = next(iter(django_otp.devices_for_user(user, confirmed=True)), None)
    if left is not None:
        django_otp.login(request, left)


def second_factor_verified(*, user: Any, device: Any, via: str | None = None) -> None:
    """A second factor passed outside a sign-in: a signed-in session's step-up
    (``/accounts/2fa/verify/``, e.g. before the admin, or a recovery code on the lost-phone
    path), or ``via="credential_exchange"`` (``auth/token``, where the code is spent even
    if the exchange is then refused). Audited ``mfa.verified`` with the method, as a sign-in
    with a second factor is ``user.login`` with it."""
    changes = {"method": second_factor_method(device)}
    if via:
        changes["via"] = via
    audit_record(action=A.MFA_VERIFIED, tenant=home_tenant(user), target=user, changes=changes, actor_user=user)
