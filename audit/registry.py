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
MEMBER_INVITATION_RESENT = register("member.invitation_resent", "Invitation sent again with a new link")
MEMBER_INVITATION_REVOKED = register("member.invitation_revoked", "Invitation revoked")
MEMBER_INVITATION_ACCEPTED = register(
    "member.invitation_accepted", "Invitation used by someone already a member (their role unchanged)"
)
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
USER_SSO_UNLINKED = register("user.sso_unlinked", "SSO account unlinked (by its owner, or an operator)")
USER_CREATED = register("user.created", "Account created by an operator")
USER_UPDATED = register(
    "user.updated", "Account changed by an operator (email, name, active, staff, superuser, groups)"
)
USER_DELETED = register("user.deleted", "Account deleted by an operator")
USER_EMAIL_CHANGED = register(
    "user.email_changed", "Account email address added, verified, made primary or removed (the account's email page)"
)
USER_DEACTIVATED = register(
    "user.deactivated",
    "Account deactivated: the tenant whose verified domain holds its address let the person go, "
    "and the last tenant holding them removed them",
)
USER_SESSIONS_ENDED = register("user.sessions_ended", "Signed-in sessions ended (sign out everywhere, or an operator)")
OPERATOR_GROUP_CREATED = register("operator_group.created", "Operator group created")
OPERATOR_GROUP_UPDATED = register("operator_group.updated", "Operator group renamed or its permissions changed")
OPERATOR_GROUP_DELETED = register("operator_group.deleted", "Operator group deleted")
MFA_ENABLED = register("mfa.enabled", "Two-factor authentication enabled")
MFA_DISABLED = register("mfa.disabled", "Two-factor authentication disabled")
MFA_PASSKEY_RENAMED = register("mfa.passkey_renamed", "Passkey renamed")
MFA_PASSKEY_CLONE_SUSPECTED = register(
    "mfa.passkey_clone_suspected", "Passkey refused: its signature counter went back (a copied authenticator?)"
)
MFA_RECOVERY_REGENERATED = register("mfa.recovery_codes_regenerated", "Recovery codes regenerated")
MFA_VERIFIED = register(
    "mfa.verified", "Second factor verified outside a sign-in (a session's step-up, the credential exchange)"
)
AUTH_LOCKED_OUT = register("auth.locked_out", "Client or account locked out after failed attempts")
# SSO verified domains
SSO_DOMAIN_ADDED = register("sso.domain_added", "SSO email domain added (pending DNS verification)")
SSO_DOMAIN_VERIFIED = register("sso.domain_verified", "SSO email domain verified through DNS")
SSO_DOMAIN_VERIFICATION_FAILED = register("sso.domain_verification_failed", "SSO email domain verification failed")
SSO_DOMAIN_REMOVED = register("sso.domain_removed", "SSO email domain removed")
SSO_APP_CREATED = register("sso_app.created", "Sign-in app (e.g. Google, Microsoft) added by an operator")
SSO_APP_UPDATED = register("sso_app.updated", "Sign-in app changed by an operator")
SSO_APP_DELETED = register("sso_app.deleted", "Sign-in app deleted by an operator")
# SCIM provisioning (channel scim; the acting SCIM token's id is the entry's key id)
SCIM_TOKEN_CREATED = register("scim_token.created", "SCIM token created")
SCIM_TOKEN_REVOKED = register("scim_token.revoked", "SCIM token revoked")
SCIM_USER_CREATED = register("scim_user.created", "User provisioned through SCIM")
SCIM_USER_UPDATED = register("scim_user.updated", "Provisioned user changed through SCIM")
SCIM_USER_LISTED = register("scim_user.listed", "Tenant member listed in the tenant's SCIM directory")
SCIM_DIRECTORY_SEEDED = register("scim_directory.seeded", "Tenant's members listed in its SCIM directory at once")
SCIM_USER_LINKED = register("scim_user.linked", "Provisioned user linked to their Tater account")
SCIM_USER_DEACTIVATED = register("scim_user.deactivated", "User deprovisioned through SCIM")
SCIM_USER_REACTIVATED = register("scim_user.reactivated", "User reprovisioned through SCIM")
SCIM_USER_DELETED = register("scim_user.deleted", "User deleted through SCIM")
SCIM_GROUP_CREATED = register("scim_group.created", "Group provisioned through SCIM")
SCIM_GROUP_UPDATED = register("scim_group.updated", "Group or its members changed through SCIM")
SCIM_GROUP_DELETED = register("scim_group.deleted", "Group deleted through SCIM")
SCIM_GROUP_MAPPED = register("scim_group.mapped", "SCIM group mapped to an organization and role")
# Business data
SCAN_UPLOADED = register("scan.uploaded", "Scan uploaded")
# The log itself
AUDIT_PURGED = register("audit.purged", "Old audit entries purged")
AUDIT_CHAIN_KEYED = register("audit.chain_keyed", "Audit chain sealed: only the current audit key signs from here on")
