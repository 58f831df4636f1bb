"""The mail backend of a production setup without ``EMAIL_HOST``.

Tater's mails carry account-takeover links (invitations, password resets). Printing them
(Django's console backend) would put those links in the logs, so without a mail server the
message is dropped and only its recipients and subject are logged, never its body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("tater.mail")


class TenantMail(EmailMessage):
    """A message about one tenant: a mail outbox keeps it for that tenant's owners. Messages
    of any other class (password resets, email confirmations: links that take over an account)
    are never kept for a tenant. The tenant is named by an attribute, never a header: a mail
    server is sent every header as it is, and an outside invitee has no business with the
    tenant's id. ``security_alert``: a secret found in public, kept apart from the other mail,
    which an org admin (invitations) or a leaked key's holder (keys made with it, and their
    expiry notices) can send in bulk."""

    def __init__(self, *args: Any, tenant_public_id: str, security_alert: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant_public_id = tenant_public_id
        self.security_alert = security_alert


def send_about_tenant(
    *,
    subject: str,
    body: str,
    recipients: Iterable[str],
    tenant_public_id: str,
    from_email: str | None = None,
    security_alert: bool = False,
) -> int:
    """``send_mail`` for a message about one tenant that carries no account-takeover link
    (invitations, key notices): it names the tenant, so without a mail server the tenant's
    owners still read it in their Outbox (``outbox.backends``)."""
    message = TenantMail(
        subject,
        body,
        from_email,
        list(recipients),
        tenant_public_id=tenant_public_id,
        security_alert=security_alert,
    )
    return message.send()


class UnsentMailBackend(BaseEmailBackend):
    """Sends nothing; logs one warning per message without its body."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            # %r: a subject or address holding a newline cannot forge a second log line.
            logger.warning(
                "mail to %r with subject %r not sent: no EMAIL_HOST configured",
                ", ".join(message.recipients()),
                str(message.subject),
            )
        return 0
