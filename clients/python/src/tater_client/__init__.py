"""Typed Python client for the Tater REST API (``/api/v1/``), and the ``tater`` command.

::

    from tater_client import Tater

    with Tater(api_key="tater_…", base_url="http://127.0.0.1:8000") as tater:
        info = tater.validate()
        page = tater.keys.list(status="active")
        scan = tater.scans.upload("scan-payload.json")
        tater.audit.export_to("audit.csv", since="2026-01-01")
"""

from __future__ import annotations

from tater_client.audit import AuditFilters
from tater_client.client import DEFAULT_URL, Tater
from tater_client.errors import (
    AmbiguousOrg,
    AuthenticationError,
    Conflict,
    InvalidOtp,
    IpNotAllowed,
    KeyExpired,
    KeyInactive,
    KeyRevoked,
    KeyTypeNotAllowed,
    LockedOut,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    RateLimitInfo,
    ServerError,
    ServiceUnavailable,
    TaterError,
    TransportError,
    UsageExhausted,
    ValidationError,
    WorkspaceAccessDenied,
)
from tater_client.me_models import Me, MeOrganization, MeTenant, MeUser, OrgRef
from tater_client.models import (
    ApiKey,
    AuditActor,
    AuditEntry,
    AuditPage,
    AuditTarget,
    Finding,
    IssuedKey,
    KeyInfo,
    KeyPage,
    KeyUsage,
    Scan,
    ScanPage,
    Uploader,
    UsageBucket,
    UsageHistory,
)
from tater_client.org_models import (
    Invitation,
    Member,
    MemberAdded,
    MemberPage,
    Organization,
    OrganizationPage,
    ScimToken,
    ScimTokenPage,
)
from tater_client.orgs import MembersAPI, OrganizationsAPI
from tater_client.params import __version__
from tater_client.resources import UNSET, AuditLogAPI, KeysAPI, ScansAPI
from tater_client.retry import ALL_METHODS, IDEMPOTENT_METHODS, RetryPolicy
from tater_client.scim_tokens import ScimTokensAPI

__all__ = [
    "ALL_METHODS",
    "AmbiguousOrg",
    "ApiKey",
    "AuditActor",
    "AuditEntry",
    "AuditFilters",
    "AuditLogAPI",
    "AuditPage",
    "AuditTarget",
    "AuthenticationError",
    "Conflict",
    "DEFAULT_URL",
    "Finding",
    "IDEMPOTENT_METHODS",
    "Invitation",
    "InvalidOtp",
    "IpNotAllowed",
    "IssuedKey",
    "KeyExpired",
    "KeyInactive",
    "KeyInfo",
    "KeyPage",
    "KeyRevoked",
    "KeyTypeNotAllowed",
    "KeyUsage",
    "KeysAPI",
    "LockedOut",
    "Me",
    "MeOrganization",
    "MeTenant",
    "MeUser",
    "Member",
    "MemberAdded",
    "MemberPage",
    "MembersAPI",
    "MethodNotAllowed",
    "NotFound",
    "Organization",
    "OrganizationPage",
    "OrgRef",
    "OrganizationsAPI",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimitInfo",
    "RateLimited",
    "RetryPolicy",
    "Scan",
    "ScanPage",
    "ScansAPI",
    "ScimToken",
    "ScimTokenPage",
    "ScimTokensAPI",
    "ServerError",
    "ServiceUnavailable",
    "Tater",
    "TaterError",
    "TransportError",
    "UNSET",
    "Uploader",
    "UsageBucket",
    "UsageExhausted",
    "UsageHistory",
    "ValidationError",
    "WorkspaceAccessDenied",
    "__version__",
]
