from __future__ import annotations

from typing import Any

from rest_framework import serializers

from orgs.models import Invitation, Organization
from orgs.roles import OrgRole, TenantRole
from orgs.selectors import MemberRow
from tater.api.fields import EmailInput, RejectUnknownFieldsMixin, StrictCharField, WholeNumberField
from tater.api.pagination import offset_field


class OrganizationOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="org-<uuid>")
    tenant_id = serializers.CharField(source="tenant.public_id")
    tenant_name = serializers.CharField(source="tenant.name")

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "tenant_id", "tenant_name", "created_at"]


class OrganizationListOutput(serializers.Serializer):
    organizations = OrganizationOutput(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class OrganizationCreateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=200)


class OrganizationUpdateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=200)


class MemberOutput(serializers.Serializer):
    user_id = serializers.CharField(help_text="The user's id (usr-...); use it in …/members/{user_id}/")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=OrgRole.choices, allow_null=True, help_text="Role in this organization")
    tenant_role = serializers.ChoiceField(
        choices=TenantRole.choices, allow_null=True, help_text="Tenant-wide role (reaches every org of the tenant)"
    )
    effective_role = serializers.CharField(
        help_text="The role that applies here: the tenant role if any, else the org role"
    )
    joined_at = serializers.DateTimeField()


def member_data(row: MemberRow) -> dict[str, Any]:
    return {
        "user_id": row.user.public_id,
        "email": row.user.email,
        "role": row.role,
        "tenant_role": row.tenant_role,
        "effective_role": row.effective_role,
        "joined_at": row.joined_at,
    }


class InvitationOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created_at", "expires_at"]


class MemberListOutput(serializers.Serializer):
    members = MemberOutput(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    pending_invitations = InvitationOutput(
        many=True,
        help_text="Pending invitations (callers with members:write), newest first, paged by the same limit/offset",
    )
    pending_invitations_total = serializers.IntegerField(
        help_text="How many invitations are pending (0 without members:write): page on while offset is below it"
    )
    held_invitations = InvitationOutput(
        many=True,
        help_text=(
            "Invitations on hold (callers with members:write): whoever sent them can no longer grant the role "
            "(account deactivated or deprovisioned), or they went through an API key now deactivated, so "
            "their links are refused until that person's (or key's) return; "
            "resend one to vouch for it yourself. Never counted as pending; paged like pending_invitations"
        ),
    )
    held_invitations_total = serializers.IntegerField(help_text="How many invitations are on hold")


class MemberCreateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    email = EmailInput(
        help_text=("A user who has verified this address is added at once; any other address gets an invitation email"),
    )
    role = serializers.ChoiceField(choices=OrgRole.choices, default=OrgRole.MEMBER)


class MemberCreateOutput(serializers.Serializer):
    result = serializers.ChoiceField(choices=[("added", "added"), ("invited", "invited")])
    member = MemberOutput(allow_null=True)
    invitation = InvitationOutput(allow_null=True)


class MemberUpdateInput(RejectUnknownFieldsMixin, serializers.Serializer):
    role = serializers.ChoiceField(choices=OrgRole.choices, required=False, help_text="New role in this organization")
    tenant_role = serializers.ChoiceField(
        choices=TenantRole.choices,
        required=False,
        allow_null=True,
        help_text="New tenant-wide role, or null to drop it (tenant owners/admins only)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError({"role": ["Give role and/or tenant_role"]})
        return attrs


class PageQuery(serializers.Serializer):
    """``limit``/``offset`` paging, as every list pages (README "Decisions on lists")."""

    limit = WholeNumberField(required=False, min_value=1, max_value=200, default=50)
    offset = offset_field()


class MemberListQuery(PageQuery):
    pass


class OrganizationListQuery(PageQuery):
    pass
