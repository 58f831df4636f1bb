"""The single source of truth for what a role may do (SPEC §1–§2).

Tenant roles apply in every organization of the tenant; organization roles in one org.
A user's scopes in an org are the union of what their tenant role and org role grant.
"""

from __future__ import annotations

from django.db import models

from tater import scopes as S


class TenantRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"


class OrgRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


TENANT_ROLE_SCOPES: dict[str, frozenset[str]] = {
    TenantRole.OWNER: S.ALL_SCOPES,
    TenantRole.ADMIN: S.ALL_SCOPES,
}

ORG_ROLE_SCOPES: dict[str, frozenset[str]] = {
    OrgRole.ADMIN: S.ALL_SCOPES,
    # Members read everything (audit included), write business data and their own keys.
    OrgRole.MEMBER: S.READ_SCOPES | {"scans:write", "keys:write"},
    # Viewers read, but never the audit log, and hold no write scope.
    OrgRole.VIEWER: S.READ_SCOPES - {"audit:read"},
}

# Rank for "nobody grants a role above their own".
ORG_ROLE_RANK: dict[str, int] = {OrgRole.VIEWER: 1, OrgRole.MEMBER: 2, OrgRole.ADMIN: 3}
TENANT_ROLE_RANK: dict[str, int] = {TenantRole.ADMIN: 4, TenantRole.OWNER: 5}


def role_scopes(tenant_role: str | None, org_role: str | None) -> frozenset[str]:
    granted: frozenset[str] = frozenset()
    if tenant_role:
        granted |= TENANT_ROLE_SCOPES.get(tenant_role, frozenset())
    if org_role:
        granted |= ORG_ROLE_SCOPES.get(org_role, frozenset())
    return granted


def effective_rank(tenant_role: str | None, org_role: str | None) -> int:
    if tenant_role:
        return TENANT_ROLE_RANK[tenant_role]
    return ORG_ROLE_RANK.get(org_role, 0) if org_role else 0
