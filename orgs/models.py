from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from orgs.roles import OrgRole, TenantRole


def new_tenant_id() -> str:
    return str(uuid.uuid4())


def new_org_id() -> str:
    return f"org-{uuid.uuid4()}"


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


class KeyCreationPolicy(models.TextChoices):
    OWNERS = "owners", "Tenant owners only"
    ADMINS = "admins", "Owners and admins"
    MEMBERS = "members", "Everyone with keys:write"


class Tenant(models.Model):
    """The customer account (e.g. an MSP). Its plan sets the API rate limits."""

    public_id = models.CharField(max_length=40, unique=True, default=new_tenant_id, editable=False)
    name = models.CharField(max_length=200)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    require_2fa = models.BooleanField(default=False)
    require_sso = models.BooleanField(default=False)
    key_creation_policy = models.CharField(
        max_length=20, choices=KeyCreationPolicy.choices, default=KeyCreationPolicy.MEMBERS
    )
    token_exchange_policy = models.CharField(
        max_length=20,
        choices=KeyCreationPolicy.choices,
        default=KeyCreationPolicy.OWNERS,
        help_text="Who may exchange email + password for a key at /api/v1/auth/token.",
    )
    max_key_lifetime_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """A workspace inside a tenant; all business data belongs to exactly one."""

    public_id = models.CharField(max_length=48, unique=True, default=new_org_id, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="organizations")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="org_slug_unique_per_tenant")]

    def __str__(self) -> str:
        return self.name


class TenantMembership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships")
    role = models.CharField(max_length=20, choices=TenantRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="tenant_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.tenant}"


class OrgMembership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships")
    role = models.CharField(max_length=20, choices=OrgRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="org_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.organization}"


def new_invitation_id() -> str:
    return f"inv-{uuid.uuid4()}"


class Invitation(models.Model):
    """An emailed invitation to join an organization. Only the SHA-256 digest of the token
    is stored; the token itself travels once, in the email's accept link."""

    public_id = models.CharField(max_length=48, unique=True, default=new_invitation_id, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=OrgRole.choices)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set when a newer invitation replaces this one.")
    # The key's pk, not a foreign key: apikeys sits above orgs (import-linter), as the audit
    # log names a key by its id. Revoking the key withdraws the invitation (members.py).
    sent_through_key_pk = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        editable=False,
        db_index=True,
        help_text="The API key it was sent (or last resent) through; empty from a session, the admin or SCIM.",
    )
    key_deactivated = models.BooleanField(
        default=False, editable=False, help_text="On hold: the API key it was sent through is deactivated."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "email"], name="invitation_org_email")]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organization}"
