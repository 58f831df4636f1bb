"""Security notices: a mail to the account's own address when its password or second factors
change, or a recovery code is spent (GitHub's "[GitHub] A recovery code was used…" mails).

Password plus one stolen recovery code is a fully verified session, which may then replace
the authenticator, regenerate the codes or add a passkey of its own (the lost-phone path
must allow that). The owner hears of each such step, whoever took it and on whichever
channel (UI, JSON API, admin, an operator removing a lost device), because the notice
follows the audit entry every one of those paths already writes: ``NOTICES`` says which
entries are mailed; nothing else decides it.

The mail is sent when the entry's transaction commits (a rolled-back change mails nothing)
and never names a secret; it is account mail, so without ``EMAIL_HOST`` it is not kept in a
tenant's outbox (``outbox.backends``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.core import context as allauth_context
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import RecoveryCode
from audit import registry as A
from audit.models import AuditEvent

METHOD_NAMES = {"totp": "an authenticator app", "passkey": "a passkey", "recovery_code": "recovery codes"}


@dataclass(frozen=True)
class Notice:
    subject: str
    what: str  # completes "… on your Tater account"
    codes_left: bool = False  # say how many unused recovery codes remain


# (audit action, the entry's "method" or None for any): the notice mailed for it.
NOTICES: dict[tuple[str, str | None], Notice] = {
    (A.USER_LOGIN, "recovery_code"): Notice(
        "A recovery code was used to sign in", "A recovery code was used to sign in", codes_left=True
    ),
    (A.MFA_VERIFIED, "recovery_code"): Notice(
        "A recovery code was used", "A recovery code was used to confirm your identity", codes_left=True
    ),
    (A.MFA_ENABLED, None): Notice("A second factor was added", "A second factor was added ({methods})"),
    (A.MFA_DISABLED, None): Notice("A second factor was removed", "A second factor was removed ({methods})"),
    (A.USER_PASSWORD_CHANGED, None): Notice("Your password was changed", "The password was changed"),
    (A.MFA_RECOVERY_REGENERATED, None): Notice(
        "New recovery codes were generated", "New recovery codes were generated; the old ones no longer work"
    ),
}


def notice_for(entry: AuditEvent) -> Notice | None:
    if entry.target_type != "user":
        return None
    method = (entry.changes or {}).get("method")
    return NOTICES.get((entry.action, method if isinstance(method, str) else None)) or NOTICES.get((entry.action, None))


def _methods(entry: AuditEvent) -> str:
    changes = entry.changes or {}
    kinds = changes.get("methods_removed") or [changes.get("method")]
    names = [METHOD_NAMES.get(kind, "a second factor") for kind in kinds if isinstance(kind, str)]
    return " and ".join(names) or "a second factor"


def _security_url() -> str:
    request = getattr(allauth_context, "request", None)
    path = reverse("accounts_security")
    return request.build_absolute_uri(path) if request is not None else path


def on_audit_entry(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    """post_save of an audit entry (connected in accounts.receivers): mail its notice, if any."""
    notice = notice_for(instance) if created else None
    if notice is None:
        return
    user = get_user_model().objects.filter(public_id=instance.target_id).first()
    if user is None or not user.email:
        return
    context = {
        "user": user,
        "what": notice.what.format(methods=_methods(instance)),
        "entry": instance,
        "by_operator": (instance.changes or {}).get("by") == "operator",
        "codes_left": (
            RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count() if notice.codes_left else None
        ),
        "security_url": _security_url(),
    }
    message = EmailMessage(
        subject=f"[Tater] {notice.subject}",
        body=render_to_string("accounts/email/security_notice.txt", context),
        to=[user.email],
    )
    # robust: a mail server's error is logged, never the failure of the change it reports.
    transaction.on_commit(message.send, robust=True)
