"""The mail backend of the embedded default (no ``EMAIL_HOST``): nothing leaves the
machine. A message that names its tenant (``tater.mail.TenantMail``) is kept in that
tenant's outbox, which its owners read in the app (Tenant settings → Outbox). Every
message also goes to the log: in full with DEBUG on (like Django's console backend),
otherwise recipients and subject only, since mail carries links that take over accounts.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.db import transaction

from orgs.models import Tenant
from outbox.models import OutboxMessage
from tater.mail import TenantMail, UnsentMailBackend

# Older messages of a tenant are dropped beyond this many of each kind, security alerts and
# the rest counted apart: invitations sent in bulk never push out a leaked key's alert.
KEEP_PER_TENANT = 500


class OutboxMailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: object) -> None:
        super().__init__(fail_silently=fail_silently)
        self._log: BaseEmailBackend = (
            ConsoleEmailBackend(fail_silently=fail_silently, **kwargs)
            if settings.DEBUG
            else UnsentMailBackend(fail_silently=fail_silently)
        )

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        for message in email_messages:
            self._keep(message)
        self._log.send_messages(email_messages)
        return 0  # nothing was delivered

    # One transaction (a savepoint within the caller's): a database error keeps nothing half
    # done and leaves the caller's transaction usable (the expiry notices give their claim
    # back, then go on with the next key).
    @transaction.atomic
    def _keep(self, message: EmailMessage) -> None:
        if not isinstance(message, TenantMail):
            return
        tenant = Tenant.objects.filter(public_id=message.tenant_public_id).first()
        if tenant is None:
            return
        alert = message.security_alert
        OutboxMessage.objects.create(
            tenant=tenant,
            to=list(message.recipients()),
            subject=str(message.subject),
            body=str(message.body),
            security_alert=alert,
        )
        kind = OutboxMessage.objects.filter(tenant=tenant, security_alert=alert)
        stale = kind.values_list("pk", flat=True)[KEEP_PER_TENANT:]
        OutboxMessage.objects.filter(pk__in=list(stale)).delete()
