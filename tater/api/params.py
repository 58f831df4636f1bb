"""The org hints a caller may send (SPEC §4), by name: what ``orgs.access`` reads and what
the schema (``tater.api.schema``) documents. Core, so both can import it."""

from __future__ import annotations

ORG_PARAM = "organizationId"
ORG_HEADER = "HTTP_X_WORKSPACE_ID"  # X-Workspace-ID, as it appears in request.META
TENANT_PARAM = "tenantId"
