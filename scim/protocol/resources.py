"""Users and Groups on the wire: reading SCIM JSON (POST/PUT bodies, PATCH operations in
the shapes Entra ID and Okta send) into ``UserDoc``/``GroupDoc``, and writing resources
back, with ``attributes``/``excludedAttributes`` projection.

Reading is lenient where identity providers differ and strict where it matters:

- attribute names, operation names (Entra's ``Replace``) and booleans sent as strings
  (Entra's ``"False"``) are accepted in any case;
- a PATCH without ``path`` applies each key of its value object as a path (Okta's and
  Entra's ``{"op": "replace", "value": {"active": false}}``, also ``"name.givenName"``
  keys); ``remove`` of ``members`` with a value list removes those members (Entra);
- attributes Tater does not keep (phone numbers, addresses, the enterprise extension) are
  ignored; a malformed path, a wrong type or a change to ``id`` is a 400.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from scim.documents import GroupDoc, UserDoc
from scim.models import ScimGroup, ScimUser
from scim.protocol import filters as F
from scim.protocol.errors import bad_request
from scim.protocol.schemas import EMAIL_TYPES, GROUP_URN, NAME_PARTS, PATCH_URN, USER_URN
from tater.emails import normalize_email

MAX_TEXT = 255
MAX_EMAILS = 20
MAX_MEMBERS_PER_REQUEST = 10_000
ALWAYS_RETURNED = ("schemas", "id")


# --- Attribute specifications -------------------------------------------------------------


@dataclass(frozen=True)
class AttrSpec:
    name: str
    kind: str = "string"  # string | boolean | complex
    multi: bool = False
    subs: tuple[AttrSpec, ...] = ()
    read_only: bool = False
    max_length: int = MAX_TEXT

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


_COMMON = (AttrSpec("id", read_only=True), AttrSpec("meta", "complex", read_only=True),
           AttrSpec("schemas", multi=True, read_only=True), AttrSpec("externalId"))

USER = ResourceSpec(USER_URN, (
    *_COMMON,
    AttrSpec("userName", max_length=254),
    AttrSpec("name", "complex", subs=tuple(AttrSpec(part) for part in NAME_PARTS)),
    AttrSpec("displayName"),
    AttrSpec("emails", "complex", multi=True,
             subs=(AttrSpec("value", max_length=254), AttrSpec("type"), AttrSpec("primary", "boolean"))),
    AttrSpec("active", "boolean"),
))

GROUP = ResourceSpec(GROUP_URN, (
    *_COMMON,
    AttrSpec("displayName"),
    # $ref, type and display are accepted and recomputed: a member is its User id.
    AttrSpec("members", "complex", multi=True,
             subs=(AttrSpec("value"), AttrSpec("$ref", max_length=2048), AttrSpec("type"), AttrSpec("display"))),
))


# --- Values -------------------------------------------------------------------------------


def _scalar(spec: AttrSpec, value: Any, where: str) -> Any:
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


def _complex(spec: AttrSpec, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = spec.sub(str(key))
        if sub is None or item is None:
            continue  # a sub-attribute Tater does not keep (e.g. emails.display)
        out[sub.name] = _scalar(sub, item, f"{where}.{sub.name}")
    return out


def coerce(spec: AttrSpec, value: Any) -> Any:
    """``value`` checked and normalised for ``spec``; None (or empty) means unassigned."""
    if value is None:
        return None
    if spec.multi:
        items = value if isinstance(value, list) else [value]
        if spec.kind == "complex":
            out = [_complex(spec, item, spec.name) for item in items]
            out = [item for item in out if item]
        else:
            out = [_scalar(spec, item, spec.name) for item in items]
        return _dedupe(out) or None
    if spec.kind == "complex":
        return _complex(spec, value, spec.name) or None
    return _scalar(spec, value, spec.name)


def _dedupe(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _set(doc: dict[str, Any], name: str, value: Any) -> None:
    if value in (None, [], {}, ""):
        doc.pop(name, None)
    else:
        doc[name] = value


def from_body(spec: ResourceSpec, body: Any) -> dict[str, Any]:
    """A POST/PUT body as a document of the attributes Tater keeps (read-only and unknown
    attributes ignored, RFC 7644 §3.3 / §3.5.1)."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object", "invalidSyntax")
    doc: dict[str, Any] = {}
    for key, value in body.items():
        if str(key).lower() == spec.urn.lower() and isinstance(value, dict):
            doc.update(from_body(spec, value))  # core attributes nested under their URN
            continue
        attr = spec.get(str(key))
        if attr is None or attr.read_only:
            continue
        _set(doc, attr.name, coerce(attr, value))
    return doc


# --- PATCH (RFC 7644 §3.5.2) -------------------------------------------------------------


def apply_patch(spec: ResourceSpec, doc: dict[str, Any], body: Any) -> dict[str, Any]:
    """The document after the PatchOp ``body``; every operation applies or none does."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a PatchOp object", "invalidSyntax")
    schemas = body.get("schemas")
    if schemas is not None and (not isinstance(schemas, list) or PATCH_URN not in schemas):
        raise bad_request(f"schemas must be [{PATCH_URN!r}]", "invalidSyntax")
    operations = next((v for k, v in body.items() if str(k).lower() == "operations"), None)
    if not isinstance(operations, list) or not operations:
        raise bad_request("Operations must be a non-empty list", "invalidSyntax")
    result = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("Each operation must be an object", "invalidSyntax")
        fields = {str(k).lower(): v for k, v in operation.items()}
        op = fields.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "remove", "replace"):
            raise bad_request(f"Unknown PATCH op {op!r}: use add, remove or replace", "invalidSyntax")
        op = op.lower()
        raw_path = fields.get("path")
        value = fields.get("value")
        if raw_path in (None, ""):
            if op == "remove":
                raise bad_request("A remove operation needs a path", "noTarget")
            _apply_pathless(spec, result, op, value)
        else:
            _apply(spec, result, op, F.parse_path(raw_path), value, pathless=False)
    return result


def _apply_pathless(spec: ResourceSpec, doc: dict[str, Any], op: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise bad_request("An operation without a path needs an object value", "invalidValue")
    for key, item in value.items():
        key = str(key)
        if key.lower() == spec.urn.lower() and isinstance(item, dict):
            _apply_pathless(spec, doc, op, item)
            continue
        if key.lower().startswith("urn:") and (F.split_urn(key)[0] or "").lower() != spec.urn.lower():
            continue  # an extension Tater does not keep (e.g. the enterprise User)
        _apply(spec, doc, op, F.parse_path(key), item, pathless=True)


def _apply(spec: ResourceSpec, doc: dict[str, Any], op: str, path: F.Path, value: Any, *, pathless: bool) -> None:
    if path.urn is not None and path.urn.lower() != spec.urn.lower():
        return  # another schema's attribute (an extension): not kept
    attr = spec.get(path.attr)
    if attr is None:
        return  # an attribute Tater does not keep
    if attr.read_only:
        if pathless:
            return  # Okta repeats the id in path-less replaces
        raise bad_request(f"{attr.name} cannot be changed", "mutability")
    sub = None
    if path.sub is not None:
        sub = attr.sub(path.sub)
        if sub is None:
            return
    if path.filter is not None:
        if not attr.multi or attr.kind != "complex":
            raise bad_request(f"{attr.name} is not a multi-valued attribute: no filter applies", "invalidPath")
        _apply_filtered(doc, attr, op, path.filter, sub, value)
    elif sub is not None:
        _apply_sub(doc, attr, op, sub, value)
    elif attr.multi:
        _apply_multi(doc, attr, op, value)
    elif attr.kind == "complex":
        if op == "remove":
            doc.pop(attr.name, None)
        else:
            # add and replace both merge: sub-attributes not given stay (RFC 7644 §3.5.2.3).
            merged = {**doc.get(attr.name, {}), **(coerce(attr, value) or {})}
            if isinstance(value, dict):
                for key, item in value.items():
                    if item is None and (s := attr.sub(str(key))) is not None:
                        merged.pop(s.name, None)
            _set(doc, attr.name, merged)
    elif op == "remove":
        doc.pop(attr.name, None)
    else:
        _set(doc, attr.name, coerce(attr, value))


def _apply_multi(doc: dict[str, Any], attr: AttrSpec, op: str, value: Any) -> None:
    current: list[Any] = list(doc.get(attr.name, []))
    if op == "remove":
        if value is None:
            doc.pop(attr.name, None)
            return
        # Entra ID removes members with {"path": "members", "value": [{"value": id}]}.
        doomed = coerce(attr, value) or []
        keys = {_identity(item) for item in doomed}
        _set(doc, attr.name, [item for item in current if _identity(item) not in keys])
        return
    given = coerce(attr, value) or []
    if op == "replace":
        _set(doc, attr.name, given)
        return
    known = {_identity(item) for item in current}
    for item in given:
        if _identity(item) not in known:
            current.append(item)
            known.add(_identity(item))
    _set(doc, attr.name, current)


def _identity(item: Any) -> Any:
    """What makes two values of a multi-valued attribute the same one: a member's id, an
    email's address (case-insensitively)."""
    if isinstance(item, dict) and isinstance(item.get("value"), str):
        return item["value"].casefold()
    return repr(item)


def _apply_filtered(
    doc: dict[str, Any], attr: AttrSpec, op: str, node: F.Node, sub: AttrSpec | None, value: Any
) -> None:
    current: list[dict[str, Any]] = [dict(item) for item in doc.get(attr.name, [])]
    hits = [i for i, item in enumerate(current) if F.matches(node, item)]
    if op == "remove":
        if sub is None:
            current = [item for i, item in enumerate(current) if i not in hits]
        else:
            for i in hits:
                current[i].pop(sub.name, None)
            current = [item for item in current if item.get("value") is not None]
        _set(doc, attr.name, current)
        return
    if sub is not None:
        new_value = _scalar(sub, value, f"{attr.name}.{sub.name}") if value is not None else None
        update = {sub.name: new_value}
    else:
        update = _complex(attr, value, attr.name)
    if not hits:
        # Entra ID adds a work email as emails[type eq "work"].value: build the element the
        # filter describes. A filter that describes no element has nothing to replace.
        described = F.equalities(node)
        if described is None:
            raise bad_request(f"No value of {attr.name} matches the filter", "noTarget")
        element = _complex(attr, {k: v for k, v in described.items()}, attr.name)
        current.append({**element, **update})
    else:
        for i in hits:
            current[i] = {**current[i], **update}
    _set(doc, attr.name, [{k: v for k, v in item.items() if v is not None} for item in current])


def _apply_sub(doc: dict[str, Any], attr: AttrSpec, op: str, sub: AttrSpec, value: Any) -> None:
    if attr.multi:
        # emails.value without a filter: every element.
        items = [dict(item) for item in doc.get(attr.name, [])]
        for item in items:
            if op == "remove" or value is None:
                item.pop(sub.name, None)
            else:
                item[sub.name] = _scalar(sub, value, f"{attr.name}.{sub.name}")
        _set(doc, attr.name, [item for item in items if item])
        return
    parent = dict(doc.get(attr.name, {}))
    if op == "remove" or value is None:
        parent.pop(sub.name, None)
    else:
        parent[sub.name] = _scalar(sub, value, f"{attr.name}.{sub.name}")
    _set(doc, attr.name, parent)


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
    if len(members) > MAX_MEMBERS_PER_REQUEST:
        raise bad_request(f"At most {MAX_MEMBERS_PER_REQUEST} members per request", "tooMany")
    ids: list[str] = []
    for member in members:
        member_id = member.get("value")
        if not isinstance(member_id, str) or not member_id:
            raise bad_request("Each member needs a value (the member's User id)")
        if member_id not in ids:
            ids.append(member_id)
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


def _timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _meta(kind: str, obj: ScimUser | ScimGroup, location: str) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": _timestamp(obj.created_at),
        "lastModified": _timestamp(obj.updated_at),
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


# --- attributes / excludedAttributes (RFC 7644 §3.4.2.5) --------------------------------


def parse_attribute_list(raw: Any) -> list[F.Path]:
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, list) else str(raw).split(",")
    paths = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        paths.append(F.attr_path(item.strip()))  # no filters in attribute lists
    return paths


def project(resource: dict[str, Any], spec: ResourceSpec, *, attributes: list[F.Path], excluded: list[F.Path]) -> dict[str, Any]:
    """The resource with only the requested attributes, or without the excluded ones;
    ``schemas`` and ``id`` are always returned."""

    def canonical(path: F.Path) -> tuple[str, str | None] | None:
        if path.urn is not None and path.urn.lower() != spec.urn.lower():
            return None
        attr = spec.get(path.attr)
        if attr is None:
            return None
        if path.sub is None:
            return attr.name, None
        sub = attr.sub(path.sub) if attr.subs else None
        if attr.name == "meta":
            return attr.name, path.sub
        return (attr.name, sub.name) if sub else None

    if attributes:
        wanted: dict[str, set[str] | None] = {}
        for path in attributes:
            found = canonical(path)
            if found is None:
                continue
            name, sub = found
            if sub is None:
                wanted[name] = None
            elif wanted.get(name, set()) is not None:
                wanted.setdefault(name, set()).add(sub)  # type: ignore[union-attr]
        out: dict[str, Any] = {}
        for key, value in resource.items():
            if key in ALWAYS_RETURNED:
                out[key] = value
            elif key in wanted:
                subs = wanted[key]
                out[key] = value if subs is None else _only_subs(value, subs)
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    out = dict(resource)
    for path in excluded:
        found = canonical(path)
        if found is None or found[0] in ALWAYS_RETURNED:
            continue
        name, sub = found
        if sub is None:
            out.pop(name, None)
        elif name in out:
            out[name] = _without_sub(out[name], sub)
    return {k: v for k, v in out.items() if v not in (None, [], {})}


def _only_subs(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [kept for item in value if (kept := _only_subs(item, subs))]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in subs}
    return value


def _without_sub(value: Any, sub: str) -> Any:
    if isinstance(value, list):
        return [kept for item in value if (kept := _without_sub(item, sub))]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != sub}
    return value


# --- Filters as queries -------------------------------------------------------------------

Field = Callable[[Any], Q]


def _text(column: str, *, case_exact: bool = False) -> Field:
    def build(value: Any) -> Q:
        if not isinstance(value, str):
            raise bad_request(f"Compare {column} with a string", "invalidFilter")
        return Q(**{column: value}) if case_exact else Q(**{f"{column}__iexact": value})

    return build


def _user_name(value: Any) -> Q:
    if not isinstance(value, str):
        raise bad_request("Compare userName with a string", "invalidFilter")
    return Q(user_name_key=normalize_email(value))


def _boolean(column: str) -> Field:
    def build(value: Any) -> Q:
        if not isinstance(value, bool):
            raise bad_request(f"Compare {column} with true or false", "invalidFilter")
        return Q(**{column: value})

    return build


def _group_member(value: Any) -> Q:
    if not isinstance(value, str):
        raise bad_request("Compare members with a User id", "invalidFilter")
    return Q(memberships__identity__public_id=value)


# Filterable attributes with ``eq`` (the filters Entra ID and Okta send, and a few more).
USER_FIELDS: dict[str, Field] = {
    "id": _text("public_id", case_exact=True),
    "username": _user_name,
    "externalid": _text("external_id", case_exact=True),
    "displayname": _text("attributes__displayName"),
    "active": _boolean("active"),
}
GROUP_FIELDS: dict[str, Field] = {
    "id": _text("public_id", case_exact=True),
    "displayname": _text("display_name"),
    "externalid": _text("external_id", case_exact=True),
    "members": _group_member,
    "members.value": _group_member,
}


def filter_query(text: str | None, spec: ResourceSpec, fields: dict[str, Field]) -> Q:
    """A SCIM filter as a query on ScimUser or ScimGroup: ``eq`` on the attributes of
    ``fields``, combined with ``and``/``or``/``not``."""
    if text is None or not text.strip():
        return Q()
    return _to_q(F.parse_filter(text), spec, fields)


def _to_q(node: F.Node, spec: ResourceSpec, fields: dict[str, Field]) -> Q:
    if isinstance(node, F.Logical):
        left, right = _to_q(node.left, spec, fields), _to_q(node.right, spec, fields)
        return left & right if node.op == "and" else left | right
    if isinstance(node, F.Not):
        return ~_to_q(node.inner, spec, fields)
    path = node.path
    name = path.attr.lower() + (f".{path.sub.lower()}" if path.sub else "")
    supported = ", ".join(sorted(fields))
    if (path.urn is not None and path.urn.lower() != spec.urn.lower()) or path.filter is not None or name not in fields:
        raise bad_request(f"Filtering is supported on {supported} (with eq)", "invalidFilter")
    if not isinstance(node, F.Compare) or node.op != "eq":
        raise bad_request(f"Only eq is supported in filters (on {supported})", "invalidFilter")
    return fields[name](node.value)
