"""Users and Groups on the wire: the attributes Tater keeps of each (``USER``, ``GROUP``),
reading SCIM JSON (POST/PUT bodies) into ``UserDoc``/``GroupDoc``, and writing resources
back. Around them: PATCH operations (scim.protocol.patch), ``attributes``/
``excludedAttributes`` projection (scim.protocol.projection) and filters as queries
(scim.protocol.queries).

Reading is lenient where identity providers differ and strict where it matters:

- attribute names and booleans sent as strings (Entra's ``"False"``) are accepted in any
  case;
- attributes Tater does not keep (phone numbers, addresses, the enterprise extension) are
  ignored; a wrong type is a 400.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from scim.documents import GroupDoc, UserDoc
from scim.models import ScimGroup, ScimUser
from scim.protocol.errors import bad_request
from scim.protocol.schemas import EMAIL_TYPES, ENTERPRISE_USER_URN, GROUP_URN, NAME_PARTS, USER_URN
from tater.timestamps import iso_utc

MAX_TEXT = 255
MAX_EMAILS = 20
MAX_MEMBERS_PER_REQUEST = 10_000


# --- Attribute specifications -------------------------------------------------------------


@dataclass(frozen=True)
class AttrSpec:
    name: str
    kind: str = "string"  # string | boolean | complex
    multi: bool = False
    subs: tuple[AttrSpec, ...] = ()
    read_only: bool = False
    max_length: int = MAX_TEXT
    max_items: int | None = None  # values one request (one PATCH operation) may send

    def sub(self, name: str) -> AttrSpec | None:
        lowered = name.lower()
        return next((s for s in self.subs if s.name.lower() == lowered), None)


@dataclass(frozen=True)
class ResourceSpec:
    urn: str
    attrs: tuple[AttrSpec, ...]

    def get(self, name: str) -> AttrSpec | None:
        lowered = name.lower()
        return next((a for a in self.attrs if a.name.lower() == lowered), None)


_COMMON = (
    AttrSpec("id", read_only=True),
    AttrSpec("meta", "complex", read_only=True),
    AttrSpec("schemas", multi=True, read_only=True),
    AttrSpec("externalId"),
)

USER = ResourceSpec(
    USER_URN,
    (
        *_COMMON,
        AttrSpec("userName", max_length=254),
        AttrSpec("name", "complex", subs=tuple(AttrSpec(part) for part in NAME_PARTS)),
        AttrSpec("displayName"),
        AttrSpec(
            "emails",
            "complex",
            multi=True,
            subs=(AttrSpec("value", max_length=254), AttrSpec("type"), AttrSpec("primary", "boolean")),
        ),
        AttrSpec("active", "boolean"),
    ),
)

GROUP = ResourceSpec(
    GROUP_URN,
    (
        *_COMMON,
        AttrSpec("displayName"),
        # $ref, type and display are accepted and recomputed: a member is its User id.
        AttrSpec(
            "members",
            "complex",
            multi=True,
            subs=(AttrSpec("value"), AttrSpec("$ref", max_length=2048), AttrSpec("type"), AttrSpec("display")),
            # What a request sends, not what the group holds: Entra ID and Okta add members a
            # few at a time, to groups that may hold more.
            max_items=MAX_MEMBERS_PER_REQUEST,
        ),
    ),
)


# --- Values -------------------------------------------------------------------------------


def coerce_scalar(spec: AttrSpec, value: Any, where: str) -> Any:
    if spec.kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"  # Entra ID sends "True" / "False"
        raise bad_request(f"{where} must be a boolean")
    if not isinstance(value, str):
        raise bad_request(f"{where} must be a string")
    if "\x00" in value:
        raise bad_request(f"{where} may not contain NUL characters")
    if len(value) > spec.max_length:
        raise bad_request(f"{where} is longer than {spec.max_length} characters")
    return value


def coerce_complex(spec: AttrSpec, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = spec.sub(str(key))
        if sub is None or item is None:
            continue  # a sub-attribute Tater does not keep (e.g. emails.display)
        out[sub.name] = coerce_scalar(sub, item, f"{where}.{sub.name}")
    return out


def coerce(spec: AttrSpec, value: Any) -> Any:
    """``value`` checked and normalised for ``spec``; None (or empty) means unassigned."""
    if value is None:
        return None
    if spec.multi:
        items = value if isinstance(value, list) else [value]
        if spec.max_items is not None and len(items) > spec.max_items:
            raise bad_request(f"At most {spec.max_items} {spec.name} per request", "tooMany")
        if spec.kind == "complex":
            out = [coerce_complex(spec, item, spec.name) for item in items]
            out = [item for item in out if item]
        else:
            out = [coerce_scalar(spec, item, spec.name) for item in items]
        return _dedupe(out) or None
    if spec.kind == "complex":
        return coerce_complex(spec, value, spec.name) or None
    return coerce_scalar(spec, value, spec.name)


def _dedupe(items: list[Any]) -> list[Any]:
    # A set of seen values, not ``item not in out``: 10,000 members compared pairwise took seconds.
    out: list[Any] = []
    seen: set[Any] = set()
    for item in items:
        key = tuple(sorted(item.items())) if isinstance(item, dict) else item
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def set_or_drop(doc: dict[str, Any], name: str, value: Any) -> None:
    if value in (None, [], {}, ""):
        doc.pop(name, None)
    else:
        doc[name] = value


# Schemas whose URN, as a key of a body or of a path-less PATCH value, holds that schema's
# attributes as an object (RFC 7643 §3.3): anything else there is malformed, never an unknown
# attribute to ignore (an extension attribute's full path, ``…:2.0:User:department``, still is).
SCHEMA_KEYS = frozenset(urn.lower() for urn in (USER_URN, GROUP_URN, ENTERPRISE_USER_URN))


def refuse_non_object_schema(key: str, value: Any) -> None:
    """400 invalidSyntax when ``key`` names a schema and ``value`` is neither an object nor
    null (no attributes, RFC 7643 §2.5)."""
    if key.lower() in SCHEMA_KEYS and value is not None and not isinstance(value, dict):
        raise bad_request(f"{key} must be an object of that schema's attributes", "invalidSyntax")


def from_body(spec: ResourceSpec, body: Any) -> dict[str, Any]:
    """A POST/PUT body as a document of the attributes Tater keeps (read-only and unknown
    attributes ignored, RFC 7644 §3.3 / §3.5.1)."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object", "invalidSyntax")
    doc: dict[str, Any] = {}
    named: set[str] = set()
    for attr, value in _writable(spec, body):
        # Names are case-insensitive and may sit under the URN too: one attribute given twice
        # is refused, as a member repeated verbatim is (tater.api.parsers), never last-wins.
        if attr.name in named:
            raise bad_request(f"Attribute {attr.name} is named twice", "invalidSyntax")
        named.add(attr.name)
        set_or_drop(doc, attr.name, coerce(attr, value))
    return doc


def _writable(spec: ResourceSpec, body: dict[str, Any]) -> list[tuple[AttrSpec, Any]]:
    found = []
    for key, value in body.items():
        refuse_non_object_schema(str(key), value)
        if str(key).lower() == spec.urn.lower() and isinstance(value, dict):
            found += _writable(spec, value)  # core attributes nested under their URN
            continue
        attr = spec.get(str(key))
        if attr is not None and not attr.read_only:
            found.append((attr, value))
    return found


# --- Documents ----------------------------------------------------------------------------


def user_doc(doc: dict[str, Any]) -> UserDoc:
    user_name = doc.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise bad_request("userName is required")
    emails = tuple(doc.get("emails", ()))
    if len(emails) > MAX_EMAILS:
        raise bad_request(f"At most {MAX_EMAILS} emails", "tooMany")
    if sum(1 for e in emails if e.get("primary") is True) > 1:
        raise bad_request("At most one email may be primary")
    for email in emails:
        kind = email.get("type")
        if kind is not None and kind.lower() not in EMAIL_TYPES:
            raise bad_request(f"emails.type must be one of {', '.join(EMAIL_TYPES)}")
    return UserDoc(
        user_name=user_name.strip(),
        external_id=doc.get("externalId", ""),
        active=doc.get("active"),
        name=dict(doc.get("name", {})),
        display_name=doc.get("displayName", ""),
        emails=emails,
    )


def group_doc(doc: dict[str, Any]) -> GroupDoc:
    display_name = doc.get("displayName")
    if not isinstance(display_name, str) or not display_name.strip():
        raise bad_request("displayName is required")
    members = doc.get("members", [])
    ids: dict[str, None] = {}  # ordered, and a member named twice is one
    for member in members:
        member_id = member.get("value")
        if not isinstance(member_id, str) or not member_id:
            raise bad_request("Each member needs a value (the member's User id)")
        ids[member_id] = None
    return GroupDoc(display_name=display_name.strip(), external_id=doc.get("externalId", ""), member_ids=tuple(ids))


def user_document(identity: ScimUser) -> dict[str, Any]:
    """The stored identity as a document (what PATCH starts from)."""
    doc: dict[str, Any] = {"userName": identity.user_name, **copy.deepcopy(identity.attributes)}
    if identity.external_id:
        doc["externalId"] = identity.external_id
    if identity.active is not None:
        doc["active"] = identity.active
    return doc


def group_document(group: ScimGroup, member_ids: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"displayName": group.display_name}
    if group.external_id:
        doc["externalId"] = group.external_id
    if member_ids:
        doc["members"] = [{"value": member_id} for member_id in member_ids]
    return doc


# --- Representations ----------------------------------------------------------------------


def etag(version: int) -> str:
    return f'W/"{version}"'


def _meta(kind: str, obj: ScimUser | ScimGroup, location: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": iso_utc(obj.created_at),
        "lastModified": iso_utc(obj.updated_at),
        "location": location,
        "version": etag(obj.version),
    }


def user_resource(identity: ScimUser, base: str) -> dict[str, Any]:
    return {
        "schemas": [USER_URN],
        "id": identity.public_id,
        **user_document(identity),
        "meta": _meta("User", identity, f"{base}/Users/{identity.public_id}"),
    }


def group_resource(group: ScimGroup, member_ids: list[str], base: str) -> dict[str, Any]:
    doc = group_document(group, member_ids)
    if member_ids:
        doc["members"] = [{"value": m, "$ref": f"{base}/Users/{m}", "type": "User"} for m in member_ids]
    return {
        "schemas": [GROUP_URN],
        "id": group.public_id,
        **doc,
        "meta": _meta("Group", group, f"{base}/Groups/{group.public_id}"),
    }
