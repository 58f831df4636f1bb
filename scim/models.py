"""A tenant's SCIM directory: its tokens, the people its identity provider provisions and
the groups it pushes (each mapped by the tenant owner to an organization and a role).

A ``ScimUser`` is one person *as one tenant's directory sees them*: the identity
provider's attributes (userName, name, emails, active, externalId) belong to that tenant,
and the Tater account it stands for (``user``) is shared. Two tenants provisioning the
same person each have their own ``ScimUser``, with their own id, attributes and state.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgs.roles import OrgRole


def new_token_id() -> str:
    return f"scimtoken-{uuid.uuid4()}"


def new_resource_id() -> str:
    return str(uuid.uuid4())


class ScimToken(models.Model):
    """A tenant's SCIM bearer token (``scim_…``), admitted only on ``/scim/v2/``. Only the
    SHA-256 digest of the secret is stored, plus a display prefix."""

    public_id = models.CharField(max_length=48, unique=True, default=new_token_id, editable=False)
    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="scim_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    display_prefix = models.CharField(max_length=20, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SCIM token"

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at is not None else "active"


class ScimUser(models.Model):
    """One person in one tenant's directory (the SCIM ``User`` resource).

    ``user`` is the Tater account; ``None`` while the identity is *pending*: its userName
    is not an email address, or names an address outside the tenant's verified domains, or
    an account that does not belong to the tenant (it is linked once it does).
    Deprovisioning (``active`` false) keeps the row, noting in ``suspended_roles`` what it
    took away (reprovisioning starts fresh and only reports them as not given back). DELETE keeps it too
    (``deleted_at``), invisible, so the account stays recognisably this tenant's.
    """

    public_id = models.CharField(max_length=48, unique=True, default=new_resource_id, editable=False)
    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="scim_users")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="scim_identities"
    )
    user_name = models.CharField(max_length=254)
    # The comparison key of user_name (NFKC + case folding): userName is unique per tenant
    # and compared case-insensitively (RFC 7643 §4.1.1, caseExact false).
    user_name_key = models.CharField(max_length=512, editable=False)
    external_id = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(null=True, blank=True, help_text="The identity provider's `active`; empty: unassigned")
    # name, displayName and emails as the identity provider sent them.
    attributes = models.JSONField(default=dict, blank=True)
    # What deprovisioning removed from this tenant: {"tenant_role": ..., "orgs": {org pk: role}}.
    suspended_roles = models.JSONField(default=dict, blank=True)
    # Org roles granted through mapped groups: {org pk: role}.
    granted_roles = models.JSONField(default=dict, blank=True)
    # Memberships someone added by hand whose role a mapped group decides for now: {org pk:
    # the role they had by hand}, given back when no group grants one there any more.
    hand_roles = models.JSONField(default=dict, blank=True)
    # The membership (its row's id) the groups decide in each org they grant a role in: one
    # ended outside SCIM since (an admin's removal) is not the groups' any more: {org pk: id}.
    decided_memberships = models.JSONField(default=dict, blank=True)
    # Deprovisioning deactivated the account (it belonged to no other tenant): reprovisioning
    # reactivates it. An account someone else deactivated is never reactivated by SCIM.
    deactivated_account = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "SCIM user"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user_name_key"], condition=Q(deleted_at__isnull=True), name="scim_user_name_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=Q(deleted_at__isnull=True, user__isnull=False),
                name="scim_user_account_unique",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "external_id"], name="scim_user_external_id")]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(models.Model):
    """A group the identity provider pushes. The tenant owner maps it to one organization
    and a role there; its members then hold that role in that organization."""

    public_id = models.CharField(max_length=48, unique=True, default=new_resource_id, editable=False)
    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    display_name_key = models.CharField(max_length=512, editable=False)
    external_id = models.CharField(max_length=255, blank=True)
    organization = models.ForeignKey(
        "orgs.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scim_groups",
        help_text="Set by the tenant owner: the organization this group's members join",
    )
    role = models.CharField(max_length=20, choices=OrgRole.choices, blank=True)
    members: models.ManyToManyField[ScimUser, ScimGroupMember] = models.ManyToManyField(
        ScimUser, through="ScimGroupMember", related_name="groups"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "SCIM group"
        constraints = [models.UniqueConstraint(fields=["tenant", "display_name_key"], name="scim_group_name_unique")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_mapped(self) -> bool:
        return self.organization_id is not None and bool(self.role)


class ScimGroupMember(models.Model):
    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE, related_name="memberships")
    identity = models.ForeignKey(ScimUser, on_delete=models.CASCADE, related_name="group_memberships")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "identity"], name="scim_group_member_unique")]

    def __str__(self) -> str:
        return f"{self.identity_id} in {self.group_id}"
