"""Turning two-factor authentication off (kept out of accounts.services, which is full)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import RecoveryCodeDevice
from accounts.services import home_tenant, second_factor_methods
from audit import registry as A
from audit.services import audit_record


@transaction.atomic
def mfa_disable(*, user: Any) -> None:
    """Remove every second factor: TOTP, recovery codes, passkeys (callers check the
    password first). Audited ``mfa.disabled`` with the kinds removed; an account that had
    none changes nothing and records nothing."""
    removed = second_factor_methods(user)
    for model in (TOTPDevice, RecoveryCodeDevice, WebAuthnCredential):
        model.objects.filter(user=user).delete()  # pending (unconfirmed) devices too
    if removed:
        audit_record(
            action=A.MFA_DISABLED,
            tenant=home_tenant(user),
            target=user,
            changes={"methods_removed": removed},
            actor_user=user,
        )
