"""What the service provider publishes about itself (RFC 7643 §5–7, RFC 7644 §4): the
ServiceProviderConfig, the User and Group resource types, and their schemas.

The User and Group schemas list exactly what Tater stores and returns; anything else an
identity provider sends (phone numbers, addresses, the enterprise extension) is ignored,
which keeps Entra ID's and Okta's default attribute mappings working.
"""

from __future__ import annotations

from typing import Any

from scim.app_settings import app_settings

SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
# RFC 7643 §4.3: Entra ID and Okta send it; Tater keeps none of its attributes.
ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def attr(
    name: str,
    type_: str = "string",
    *,
    description: str = "",
    multi: bool = False,
    required: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    sub: list[dict[str, Any]] | None = None,
    canonical: list[str] | None = None,
    reference_types: list[str] | None = None,
) -> dict[str, Any]:
    """One attribute definition (RFC 7643 §7)."""
    definition: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if canonical:
        definition["canonicalValues"] = canonical
    if reference_types:
        definition["referenceTypes"] = reference_types
    if sub is not None:
        definition["subAttributes"] = sub
    return definition


def _read_only(*attributes: dict[str, Any]) -> list[dict[str, Any]]:
    for a in attributes:
        a["mutability"] = "readOnly"
        for s in a.get("subAttributes", []):
            s["mutability"] = "readOnly"
    return list(attributes)


NAME_PARTS = ("formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix")
EMAIL_TYPES = ["work", "home", "other"]

USER_ATTRIBUTES = [
    attr(
        "userName",
        required=True,
        uniqueness="server",
        description="The person's sign-in email address in Tater (Entra ID: userPrincipalName or mail; Okta: the "
        "username). Unique in the tenant, compared case-insensitively.",
    ),
    attr(
        "name", "complex", description="The components of the person's name.", sub=[attr(part) for part in NAME_PARTS]
    ),
    attr("displayName", description="The name shown for the person."),
    attr(
        "emails",
        "complex",
        multi=True,
        description="Email addresses (kept as sent; userName is the sign-in address).",
        sub=[
            attr("value", description="The address."),
            attr("type", canonical=EMAIL_TYPES, description="work, home or other."),
            attr("primary", "boolean", description="The preferred address."),
        ],
    ),
    attr(
        "active",
        "boolean",
        description="false deprovisions the person in this tenant: their memberships here end, and when no other "
        "tenant holds the account it is deactivated, its sessions ended and its API keys refused. "
        "true gives access back (revoked keys stay revoked).",
    ),
]

GROUP_ATTRIBUTES = [
    attr(
        "displayName",
        required=True,
        uniqueness="server",
        description="The group's name, unique in the tenant. The tenant owner maps a group to an organization and role.",
    ),
    attr(
        "members",
        "complex",
        multi=True,
        description="The people in the group (Users of this tenant).",
        sub=[
            attr("value", mutability="immutable", case_exact=True, description="The member's User id."),
            attr(
                "$ref",
                "reference",
                mutability="immutable",
                case_exact=True,
                reference_types=["User"],
                description="The member's User URI.",
            ),
            attr("type", mutability="immutable", canonical=["User"], description="User."),
        ],
    ),
]

_SUB_ATTRIBUTE_PARTS = [
    attr("name", required=True, case_exact=True),
    attr(
        "type", required=True, canonical=["string", "boolean", "decimal", "integer", "dateTime", "reference", "complex"]
    ),
    attr("multiValued", "boolean", required=True),
    attr("description"),
    attr("required", "boolean"),
    attr("canonicalValues", multi=True),
    attr("caseExact", "boolean"),
    attr("mutability", canonical=["readOnly", "readWrite", "immutable", "writeOnly"]),
    attr("returned", canonical=["always", "never", "default", "request"]),
    attr("uniqueness", canonical=["none", "server", "global"]),
    attr("referenceTypes", multi=True),
]

META_SCHEMAS: list[dict[str, Any]] = [
    {
        "id": SPC_URN,
        "name": "ServiceProviderConfig",
        "description": "Service Provider Configuration",
        "attributes": _read_only(
            attr("documentationUri", "reference", reference_types=["external"]),
            attr("patch", "complex", required=True, sub=[attr("supported", "boolean", required=True)]),
            attr(
                "bulk",
                "complex",
                required=True,
                sub=[
                    attr("supported", "boolean", required=True),
                    attr("maxOperations", "integer", required=True),
                    attr("maxPayloadSize", "integer", required=True),
                ],
            ),
            attr(
                "filter",
                "complex",
                required=True,
                sub=[attr("supported", "boolean", required=True), attr("maxResults", "integer", required=True)],
            ),
            attr("changePassword", "complex", required=True, sub=[attr("supported", "boolean", required=True)]),
            attr("sort", "complex", required=True, sub=[attr("supported", "boolean", required=True)]),
            attr("etag", "complex", required=True, sub=[attr("supported", "boolean", required=True)]),
            attr(
                "authenticationSchemes",
                "complex",
                multi=True,
                required=True,
                sub=[
                    attr("type", required=True),
                    attr("name", required=True),
                    attr("description", required=True),
                    attr("specUri", "reference", reference_types=["external"]),
                    attr("documentationUri", "reference", reference_types=["external"]),
                    attr("primary", "boolean"),
                ],
            ),
        ),
    },
    {
        "id": RESOURCE_TYPE_URN,
        "name": "ResourceType",
        "description": "Resource Type",
        "attributes": _read_only(
            attr("id"),
            attr("name", required=True),
            attr("description"),
            attr("endpoint", "reference", required=True, reference_types=["uri"]),
            attr("schema", "reference", required=True, case_exact=True, reference_types=["uri"]),
            attr(
                "schemaExtensions",
                "complex",
                multi=True,
                sub=[
                    attr("schema", "reference", required=True, case_exact=True, reference_types=["uri"]),
                    attr("required", "boolean", required=True),
                ],
            ),
        ),
    },
    {
        "id": SCHEMA_URN,
        "name": "Schema",
        "description": "Schema definition",
        "attributes": _read_only(
            attr("id", required=True),
            attr("name"),
            attr("description"),
            attr(
                "attributes",
                "complex",
                multi=True,
                required=True,
                sub=[
                    *_SUB_ATTRIBUTE_PARTS,
                    attr("subAttributes", "complex", multi=True, sub=list(_SUB_ATTRIBUTE_PARTS)),
                ],
            ),
        ),
    },
]

RESOURCE_SCHEMAS: list[dict[str, Any]] = [
    {
        "id": USER_URN,
        "name": "User",
        "description": "A person in the tenant's directory",
        "attributes": USER_ATTRIBUTES,
    },
    {
        "id": GROUP_URN,
        "name": "Group",
        "description": "A group, mapped by the tenant owner to an organization and role",
        "attributes": GROUP_ATTRIBUTES,
    },
]

RESOURCE_TYPES: list[dict[str, str]] = [
    {"id": "User", "name": "User", "endpoint": "/Users", "description": "User Account", "schema": USER_URN},
    {"id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group", "schema": GROUP_URN},
]


def schemas(base: str) -> list[dict[str, Any]]:
    """Every schema, as served at ``/Schemas`` (``base``: the absolute ``…/scim/v2`` URL)."""
    return [
        {
            "schemas": [SCHEMA_URN],
            **schema,
            "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{schema['id']}"},
        }
        for schema in (*RESOURCE_SCHEMAS, *META_SCHEMAS)
    ]


def resource_types(base: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RESOURCE_TYPE_URN],
            **rt,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/{rt['id']}"},
        }
        for rt in RESOURCE_TYPES
    ]


def service_provider_config(base: str) -> dict[str, Any]:
    return {
        "schemas": [SPC_URN],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": app_settings.MAX_COUNT},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "SCIM token",
                "description": "Authorization: Bearer scim_<32 hex>, a token the tenant owner creates under "
                "Tenant settings → SCIM provisioning",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
    }


def list_response(resources: list[dict[str, Any]], *, total: int, start_index: int = 1) -> dict[str, Any]:
    return {
        "schemas": [LIST_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
