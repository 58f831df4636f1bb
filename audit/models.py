from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


def new_event_id() -> str:
    return f"evt-{uuid.uuid4()}"


class Channel(models.TextChoices):
    UI = "ui", "UI"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    SYSTEM = "system", "System"
    SCIM = "scim", "SCIM"


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit entries cannot be changed")

    def delete(self):
        raise AppendOnlyError("Audit entries cannot be deleted (use manage.py purge_audit)")


class AuditEvent(models.Model):
    """One append-only audit entry. Never holds a secret."""

    public_id = models.CharField(max_length=48, unique=True, default=new_event_id, editable=False)
    tenant = models.ForeignKey(
        "orgs.Tenant", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    api_key_id = models.CharField(max_length=48, blank=True, db_index=True, help_text="Public id of the key that acted")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(db_index=True)
    # Tamper evidence: a hash chain per tenant (see audit.chain).
    seq = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "-id"], name="audit_tenant_id_desc"),
            models.Index(fields=["organization", "-id"], name="audit_org_id_desc"),
            # The `target` filter (a key's page links to the entries about it).
            models.Index(fields=["target_id", "-id"], name="audit_target_id_desc"),
        ]
        constraints = [
            # One entry per position in a chain; also the index verify_audit walks.
            models.UniqueConstraint(fields=["tenant", "seq"], name="audit_chain_seq_unique"),
            # NULLs never collide in a unique index, so the global chain needs its own.
            models.UniqueConstraint(
                fields=["seq"], condition=models.Q(tenant__isnull=True), name="audit_global_chain_seq_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_email or self.api_key_id or 'system'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted (use manage.py purge_audit)")


class AuditChainHead(models.Model):
    """The tip of one hash chain (one per tenant, plus ``global`` for entries with no
    tenant). Every writer locks this row (SELECT ... FOR UPDATE) before appending, so
    concurrent writers of a chain queue up and each entry links to the one before it."""

    chain = models.CharField(max_length=40, unique=True)
    tenant = models.ForeignKey(
        "orgs.Tenant", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "audit chain head"

    def __str__(self) -> str:
        return f"{self.chain} @ {self.last_seq}"
