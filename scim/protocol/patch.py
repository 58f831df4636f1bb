"""PATCH (RFC 7644 §3.5.2) of a User or Group document, in the shapes Entra ID and Okta
send; every operation applies or none does.

- operation names (Entra's ``Replace``) are accepted in any case;
- a PATCH without ``path`` applies each key of its value object as a path (Okta's and
  Entra's ``{"op": "replace", "value": {"active": false}}``, also ``"name.givenName"``
  keys); ``remove`` of ``members`` with a value list removes those members (Entra);
- attributes Tater does not keep (and other schemas' extensions) are ignored, but a schema
  URN key must hold an object (``invalidSyntax``); a malformed
  path, a sub-attribute the attribute does not have (``emails[type eq "work"].foo``,
  ``name.foo``: ``invalidPath``), a wrong type or a change to ``id`` is a 400.
"""

from __future__ import annotations

import copy
from typing import Any

from scim.protocol import filters as F
from scim.protocol.errors import bad_request
from scim.protocol.resources import (
    AttrSpec,
    ResourceSpec,
    coerce,
    coerce_complex,
    coerce_scalar,
    refuse_non_object_schema,
    set_or_drop,
)
from scim.protocol.schemas import PATCH_URN

# Sub-attributes RFC 7643 defines that Tater does not keep: ignored, like unknown attributes.
# Any other sub-attribute of a known attribute is a 400 invalidPath (RFC 7644 §3.5.2).
NOT_KEPT: dict[str, tuple[str, ...]] = {"emails": ("display",)}

# Operations one PATCH may carry (docs/scim.md §6): each walks the resource (a group's members),
# so an unbounded list held a worker for minutes. IdPs send a handful; IBM Verify allows 1,000.
MAX_OPERATIONS = 1000


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
    if len(operations) > MAX_OPERATIONS:
        raise bad_request(f"At most {MAX_OPERATIONS} operations per request", "tooMany")
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
        was_primary = _primaries(spec, result)
        if raw_path in (None, ""):
            if op == "remove":
                raise bad_request("A remove operation needs a path", "noTarget")
            _apply_pathless(spec, result, op, value)
        else:
            _apply(spec, result, op, F.parse_path(raw_path), value, pathless=False)
        _one_primary(result, was_primary)
    return result


def _primaries(spec: ResourceSpec, doc: dict[str, Any]) -> dict[str, set[Any]]:
    """The values marked primary of each multi-valued attribute that has ``primary``."""
    return {
        attr.name: {_identity(item) for item in doc.get(attr.name, []) if item.get("primary") is True}
        for attr in spec.attrs
        if attr.multi and attr.sub("primary") is not None
    }


def _one_primary(doc: dict[str, Any], was_primary: dict[str, set[Any]]) -> None:
    """RFC 7644 §3.5.2: an operation that makes a value primary makes the others not primary
    (an operation that names two primaries itself is still refused: RFC 7643 §2.4)."""
    for name, before in was_primary.items():
        now = [item for item in doc.get(name, []) if item.get("primary") is True]
        if any(_identity(item) not in before for item in now):
            for item in now:
                if _identity(item) in before:
                    item["primary"] = False


def _apply_pathless(
    spec: ResourceSpec, doc: dict[str, Any], op: str, value: Any, named: set[tuple[str, str, str]] | None = None
) -> None:
    if not isinstance(value, dict):
        raise bad_request("An operation without a path needs an object value", "invalidValue")
    named = set() if named is None else named
    for key, item in value.items():
        key = str(key)
        refuse_non_object_schema(key, item)
        if key.lower() == spec.urn.lower() and isinstance(item, dict):
            _apply_pathless(spec, doc, op, item, named)
            continue
        if key.lower().startswith("urn:") and (F.split_urn(key)[0] or "").lower() != spec.urn.lower():
            continue  # an extension Tater does not keep (e.g. the enterprise User)
        path = F.parse_path(key)
        # Names are case-insensitive and may carry the URN: one attribute given twice is
        # refused, as a member repeated verbatim is (tater.api.parsers), never last-wins.
        name = (path.attr.lower(), (path.sub or "").lower(), repr(path.filter))
        if name in named:
            raise bad_request(f"Attribute {key} is named twice", "invalidSyntax")
        named.add(name)
        _apply(spec, doc, op, path, item, pathless=True)


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
            if path.sub.lower() in NOT_KEPT.get(attr.name, ()):
                return
            raise bad_request(f"{attr.name} has no sub-attribute {path.sub!r}", "invalidPath")
    if path.filter is not None:
        if not attr.multi or attr.kind != "complex":
            raise bad_request(f"{attr.name} is not a multi-valued attribute: no filter applies", "invalidPath")
        for name in _filter_names(path.filter):
            if attr.sub(name) is None and name.lower() not in NOT_KEPT.get(attr.name, ()):
                raise bad_request(f"{attr.name} has no sub-attribute {name!r} to filter on", "invalidPath")
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
            set_or_drop(doc, attr.name, merged)
    elif op == "remove":
        doc.pop(attr.name, None)
    else:
        set_or_drop(doc, attr.name, coerce(attr, value))


def _filter_names(node: F.Node) -> list[str]:
    """The sub-attributes a value filter (``emails[type eq "work"]``) names."""
    if isinstance(node, F.Logical):
        return _filter_names(node.left) + _filter_names(node.right)
    if isinstance(node, F.Not):
        return _filter_names(node.inner)
    return [node.path.attr]


def _apply_multi(doc: dict[str, Any], attr: AttrSpec, op: str, value: Any) -> None:
    current: list[Any] = list(doc.get(attr.name, []))
    if op == "remove":
        if value is None:
            doc.pop(attr.name, None)
            return
        # Entra ID removes members with {"path": "members", "value": [{"value": id}]}.
        doomed = coerce(attr, value) or []
        keys = {_identity(item) for item in doomed}
        set_or_drop(doc, attr.name, [item for item in current if _identity(item) not in keys])
        return
    given = coerce(attr, value) or []
    if op == "replace":
        set_or_drop(doc, attr.name, given)
        return
    known = {_identity(item) for item in current}
    for item in given:
        if _identity(item) not in known:
            current.append(item)
            known.add(_identity(item))
    set_or_drop(doc, attr.name, current)


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
        set_or_drop(doc, attr.name, current)
        return
    if sub is not None:
        new_value = coerce_scalar(sub, value, f"{attr.name}.{sub.name}") if value is not None else None
        update = {sub.name: new_value}
    else:
        update = coerce_complex(attr, value, attr.name)
    if not hits:
        # Entra ID adds a work email as emails[type eq "work"].value: build the element the
        # filter describes. A filter that describes no element has nothing to replace.
        described = F.equalities(node)
        if described is None:
            raise bad_request(f"No value of {attr.name} matches the filter", "noTarget")
        element = coerce_complex(attr, {k: v for k, v in described.items()}, attr.name)
        current.append({**element, **update})
    else:
        for i in hits:
            current[i] = {**current[i], **update}
    set_or_drop(doc, attr.name, [{k: v for k, v in item.items() if v is not None} for item in current])


def _apply_sub(doc: dict[str, Any], attr: AttrSpec, op: str, sub: AttrSpec, value: Any) -> None:
    if attr.multi:
        # emails.value without a filter: every element.
        items = [dict(item) for item in doc.get(attr.name, [])]
        for item in items:
            if op == "remove" or value is None:
                item.pop(sub.name, None)
            else:
                item[sub.name] = coerce_scalar(sub, value, f"{attr.name}.{sub.name}")
        set_or_drop(doc, attr.name, [item for item in items if item])
        return
    parent = dict(doc.get(attr.name, {}))
    if op == "remove" or value is None:
        parent.pop(sub.name, None)
    else:
        parent[sub.name] = coerce_scalar(sub, value, f"{attr.name}.{sub.name}")
    set_or_drop(doc, attr.name, parent)
