"""Mail kept for a tenant when no mail server is configured (the embedded default)."""

from __future__ import annotations

import uuid

from django.db import models


def new_message_id() -> str:
    return f"mail-{uuid.uuid4()}"


class OutboxMessage(models.Model):
    """A message the product would have mailed, kept for the owners of the tenant it is
    about (outbox.backends.OutboxMailBackend). Only messages that name their tenant are
    kept; account mail (password resets, address confirmations) never is."""

    public_id = models.CharField(max_length=48, unique=True, default=new_message_id, editable=False)
    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="+")
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    # A secret found in public: kept apart from the other mail (outbox.backends), which can
    # be sent in bulk and would otherwise push it out.
    security_alert = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="outbox_tenant_created")]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
