"""Audit actions: stable dotted names, each registered exactly once."""

from __future__ import annotations

ACTIONS: dict[str, str] = {}


class DuplicateAction(ValueError):
    pass


def register(name: str, description: str) -> str:
    if name in ACTIONS:
        raise DuplicateAction(f"Audit action {name!r} is already registered")
    ACTIONS[name] = description
    return name


# Tenancy
TENANT_CREATED = register("tenant.created", "Tenant created")
TENANT_UPDATED = register("tenant.updated", "Tenant settings changed")
ORG_CREATED = register("organization.created", "Organization created")
ORG_UPDATED = register("organization.updated", "Organization renamed or changed")
MEMBER_ADDED = register("member.added", "Member added")
MEMBER_INVITED = register("member.invited", "Member invited")
MEMBER_ROLE_CHANGED = register("member.role_changed", "Member role changed")
MEMBER_REMOVED = register("member.removed", "Member removed")
# API keys
API_KEY_CREATED = register("api_key.created", "API key created")
API_KEY_UPDATED = register("api_key.updated", "API key changed")
API_KEY_REVOKED = register("api_key.revoked", "API key revoked")
API_KEY_ROTATED = register("api_key.rotated", "API key rotated")
API_KEY_DEACTIVATED = register("api_key.deactivated", "API key deactivated")
API_KEY_ACTIVATED = register("api_key.activated", "API key reactivated")
# Accounts
USER_SIGNED_UP = register("user.signed_up", "User signed up")
USER_LOGIN = register("user.login", "User signed in")
USER_LOGIN_FAILED = register("user.login_failed", "Sign-in failed")
USER_LOGOUT = register("user.logout", "User signed out")
USER_PASSWORD_CHANGED = register("user.password_changed", "Password changed")
USER_SSO_LINKED = register("user.sso_linked", "SSO account linked")
MFA_ENABLED = register("mfa.enabled", "Two-factor authentication enabled")
MFA_DISABLED = register("mfa.disabled", "Two-factor authentication disabled")
MFA_RECOVERY_REGENERATED = register("mfa.recovery_codes_regenerated", "Recovery codes regenerated")
AUTH_LOCKED_OUT = register("auth.locked_out", "Client or account locked out after failed attempts")
# Business data
SCAN_UPLOADED = register("scan.uploaded", "Scan uploaded")
# The log itself
AUDIT_PURGED = register("audit.purged", "Old audit entries purged")
