from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def new_scan_id() -> str:
    return f"scan-{uuid.uuid4()}"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Scan(models.Model):
    """One uploaded scan result (the sample business resource). Belongs to one org."""

    public_id = models.CharField(max_length=48, unique=True, default=new_scan_id, editable=False)
    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="scans")
    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="scans")
    scanner = models.CharField(max_length=100)
    target = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    findings = models.JSONField(default=list, blank=True)
    # Denormalised per-severity counts: the severity filter and the list need no JSON query.
    count_info = models.PositiveIntegerField(default=0)
    count_low = models.PositiveIntegerField(default=0)
    count_medium = models.PositiveIntegerField(default=0)
    count_high = models.PositiveIntegerField(default=0)
    count_critical = models.PositiveIntegerField(default=0)
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_key_id = models.CharField(max_length=48, blank=True, help_text="Public id of the API key that uploaded")
    # The display prefix of the secret actually presented: during a rotation's grace period
    # an upload with the old secret shows the old prefix, not the key's current one.
    key_prefix = models.CharField(max_length=20, blank=True, help_text="Display prefix of the secret that uploaded")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-started_at"], name="scan_org_started"),
            models.Index(fields=["organization", "scanner"], name="scan_org_scanner"),
        ]

    def __str__(self) -> str:
        return f"{self.scanner} scan of {self.target}"

    @property
    def severity_counts(self) -> dict[str, int]:
        return {severity: getattr(self, f"count_{severity}") for severity in Severity.values}
