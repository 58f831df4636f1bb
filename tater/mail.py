"""The mail backend of a production setup without ``EMAIL_HOST``.

Tater's mails carry account-takeover links (invitations, password resets). Printing them
(Django's console backend) would put those links in the logs, so without a mail server the
message is dropped and only its recipients and subject are logged, never its body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("tater.mail")

# A message about one tenant names it in this header (its public id); a mail outbox keeps
# such a message for that tenant's owners. Messages without it (password resets, email
# confirmations: links that take over an account) are never kept for a tenant.
TENANT_HEADER = "X-Tater-Tenant"
# A security alert about the tenant (a key or SCIM token found in public) says so in this
# header: a mail outbox keeps alerts apart from the other mail, which an org admin (invitations)
# or a leaked key's holder (keys made with it, and their expiry notices) can send in bulk.
ALERT_HEADER = "X-Tater-Alert"


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
    owners still read it in their Outbox (``outbox.backends``). ``security_alert``: a
    secret found in public, which no amount of other mail may push out of that Outbox."""
    headers = {TENANT_HEADER: tenant_public_id}
    if security_alert:
        headers[ALERT_HEADER] = "security"
    message = EmailMessage(subject, body, from_email, list(recipients), headers=headers)
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
