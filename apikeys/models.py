from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_key_id() -> str:
    return f"key-{uuid.uuid4()}"


class KeyType(models.TextChoices):
    STANDARD = "standard", "Standard"
    AGENT = "agent", "Agent"
    PUBLIC = "public", "Public"


class KeyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    INACTIVE = "inactive", "Inactive"


# The status as the UI words it (SPEC §2: deactivate/reactivate); the API keeps the values.
STATUS_LABELS: dict[str, str] = {**dict(KeyStatus.choices), KeyStatus.INACTIVE: "Deactivated"}


class UsageRefill(models.TextChoices):
    NONE = "", "Never"
    DAILY = "daily", "Daily (00:00 UTC)"
    MONTHLY = "monthly", "Monthly (the 1st, 00:00 UTC)"


def previous_secret_ends(expires_at: datetime | None, previous_expires_at: datetime | None) -> datetime | None:
    """When a rotated-out secret stops working: the end of its grace period, or the key's
    expiry when that comes first (None: no previous secret). The one rule for every answer
    about a rotation (the rotate response, key detail, pages, validate of the old secret)."""
    if previous_expires_at is None:
        return None
    if expires_at is not None and expires_at < previous_expires_at:
        return expires_at
    return previous_expires_at


class ApiKey(models.Model):
    """An API key. Only the SHA-256 digest of the secret is stored, never the secret."""

    public_id = models.CharField(max_length=48, unique=True, default=new_key_id, editable=False)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=KeyType.choices, default=KeyType.STANDARD)
    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="api_keys")
    organization = models.ForeignKey(
        "orgs.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="Empty for an unbound (tenant-wide) key.",
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    scopes = models.JSONField(default=list)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    display_prefix = models.CharField(max_length=20, editable=False)
    # After a rotation the previous secret keeps working until previous_expires_at.
    previous_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    # Watching a rotation: the rotated-out secret's prefix, and when each secret was last used.
    previous_display_prefix = models.CharField(max_length=20, blank=True, editable=False)
    previous_last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    current_last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    # The last 5 distinct client addresses, newest first: [{"ip", "last_seen"}] (apikeys.usage).
    recent_ips = models.JSONField(default=list, blank=True, editable=False)
    # Usage-limited keys (Unkey's "remaining"): at most usage_limit requests per refill period.
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_refill = models.CharField(max_length=8, choices=UsageRefill.choices, default="", blank=True)
    allowed_ips = models.JSONField(default=list, blank=True, help_text="CIDRs; empty allows any address.")
    rate_limit = models.CharField(max_length=32, blank=True, help_text='Stricter per-key limit, e.g. "5/min".')
    # The smallest of the expiry-notice thresholds (60, 30, 7 days) already mailed for the
    # current expiry; cleared when the expiry changes (send_key_expiry_notices).
    expiry_notice_days = models.PositiveSmallIntegerField(null=True, blank=True)
    metadata = models.JSONField(
        default=dict,
        blank=True,
        help_text="Integrator's JSON object (at most 4 KB), returned by validate. Never a secret.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="apikey_org_created"),
            models.Index(fields=["tenant", "-created_at"], name="apikey_tenant_created"),
            models.Index(fields=["expires_at"], name="apikey_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def previous_secret_ends(self) -> datetime | None:
        """When the rotated-out secret stops working (None: no previous secret)."""
        return previous_secret_ends(self.expires_at, self.previous_expires_at)

    def settings_version(self) -> str:
        """A fingerprint of the settings people edit (none of them secret): a page that
        showed another one was opened before someone changed the key."""
        shown = [self.name, sorted(self.scopes), self.allowed_ips, self.expires_at, self.rate_limit]
        shown += [self.usage_limit, self.usage_refill]
        return hashlib.sha256(json.dumps(shown, default=str).encode()).hexdigest()[:32]

    @property
    def is_unbound(self) -> bool:
        return self.organization_id is None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return KeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return KeyStatus.EXPIRED
        if not self.is_active:
            return KeyStatus.INACTIVE
        return KeyStatus.ACTIVE

    @property
    def status_label(self) -> str:
        """The status in the UI's words ("Deactivated" for the API's ``inactive``)."""
        return STATUS_LABELS[self.status]


class KeyUsageHourly(models.Model):
    """Requests and errors of one key in one UTC hour. Counted in the cache on the request
    path and flushed here in batches (apikeys.usage.flush); kept TATER_USAGE_RETENTION_DAYS."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage_hours")
    hour = models.DateTimeField(help_text="Start of the hour (UTC).")
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "hour"], name="apikey_usage_key_hour")]
        indexes = [models.Index(fields=["hour"], name="apikey_usage_hour")]

    def __str__(self) -> str:
        return f"{self.key_id} {self.hour:%Y-%m-%d %H:00}: {self.requests} requests, {self.errors} errors"


class PendingInvalidation(models.Model):
    """A key change, kept for ``KEPT_SECONDS`` with the generation it gave the key's digest:
    every process's sweep makes sure the shared key store still holds it (``apikeys.keycheck``).
    A store can lose one after it was written: down at the time, restarted from a snapshot
    taken before, failed over to a replica that had not received it. Kept as long as a
    process memo or a shared principal from before the change can live."""

    KEPT_SECONDS = 600  # keycheck.MEMO_TTL + keycheck.BLOB_TTL

    digest = models.CharField(max_length=64, unique=True)
    generation = models.CharField(max_length=32, default="")  # "": a row from before this field
    created_at = models.DateTimeField(auto_now_add=True)  # renewed by each change on top

    def __str__(self) -> str:
        return f"key change {self.digest[:8]}…"

    @classmethod
    def record(cls, generations: dict[str, str]) -> None:
        """Keep these digests' new generations (a digest already kept gets the new one)."""
        rows = [PendingInvalidation(digest=d, generation=g) for d, g in generations.items()]
        PendingInvalidation.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["digest"], update_fields=["generation", "created_at"]
        )

    @classmethod
    def recent(cls, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` changes still kept, the newest first: (digest, generation)."""
        since = timezone.now() - timedelta(seconds=cls.KEPT_SECONDS)
        rows = cls.objects.filter(created_at__gt=since).order_by("-created_at")
        return list(rows.values_list("digest", "generation")[:limit])

    @classmethod
    def forget_old(cls) -> None:
        """Drop the changes no memo or shared principal can predate any more."""
        cls.objects.filter(created_at__lte=timezone.now() - timedelta(seconds=cls.KEPT_SECONDS)).delete()


class RetiredSecret(models.Model):
    """A secret a rotation retired (SPEC §14, leaked keys): its digest, however many
    rotations ago, so that the secret found in public is still known to be the key's, and
    whether the rotation was made through the key itself (an API call it authenticated: the
    new secret went to whoever held one of its secrets before). Only the digest is kept."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="retired_secrets")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    retired_at = models.DateTimeField()
    rotated_through_itself = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"retired secret of key {self.api_key_id} ({self.retired_at:%Y-%m-%d %H:%M})"
