"""SCIM filters (scim.protocol.filters parses them) as queries on ScimUser and ScimGroup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q

from scim.models import ScimGroupMember
from scim.protocol import filters as F
from scim.protocol.errors import bad_request
from scim.protocol.resources import ResourceSpec
from tater.emails import normalize_email

Field = Callable[[Any], Q]


def _text(attribute: str, column: str, *, case_exact: bool = False) -> Field:
    """A string column; errors name the SCIM ``attribute``, never the column."""

    def build(value: Any) -> Q:
        if not isinstance(value, str):
            raise bad_request(f"Compare {attribute} with a string", "invalidFilter")
        return Q(**{column: value}) if case_exact else Q(**{f"{column}__iexact": value})

    return build


def _user_name(value: Any) -> Q:
    if not isinstance(value, str):
        raise bad_request("Compare userName with a string", "invalidFilter")
    return Q(user_name_key=normalize_email(value))


def _json_text(key: str) -> Field:
    """A string the User keeps in ``attributes`` (case-insensitively). A User without it does
    not match, so ``not (…)`` matches it: SQL's comparison with the missing key is NULL, which
    ``NOT`` keeps NULL, so the key's presence is part of the comparison."""

    def build(value: Any) -> Q:
        if not isinstance(value, str):
            raise bad_request(f"Compare {key} with a string", "invalidFilter")
        return Q(attributes__has_key=key) & Q(**{f"attributes__{key}__iexact": value})

    return build


def _boolean(attribute: str, column: str) -> Field:
    def build(value: Any) -> Q:
        if not isinstance(value, bool):
            raise bad_request(f"Compare {attribute} with true or false", "invalidFilter")
        return Q(**{column: value})

    return build


def _group_member(value: Any) -> Q:
    if not isinstance(value, str):
        raise bad_request("Compare members with a User id", "invalidFilter")
    # A subquery, not a join: ``members eq "a" and members eq "b"`` is a group holding both,
    # where one join would need one member row to be both (RFC 7644 §3.4.2.2).
    return Q(pk__in=ScimGroupMember.objects.filter(identity__public_id=value).values("group_id"))


# Filterable attributes with ``eq`` (the filters Entra ID and Okta send, and a few more),
# under their SCIM names as the schema spells them: errors name these, never a column.
USER_FIELDS: dict[str, Field] = {
    "userName": _user_name,
    "externalId": _text("externalId", "external_id", case_exact=True),
    "displayName": _json_text("displayName"),
    "id": _text("id", "public_id", case_exact=True),
    "active": _boolean("active", "active"),
}
GROUP_FIELDS: dict[str, Field] = {
    "displayName": _text("displayName", "display_name"),
    "externalId": _text("externalId", "external_id", case_exact=True),
    "id": _text("id", "public_id", case_exact=True),
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
    field = next((build for attribute, build in fields.items() if attribute.lower() == name), None)
    supported = ", ".join(fields)
    if (path.urn is not None and path.urn.lower() != spec.urn.lower()) or path.filter is not None or field is None:
        raise bad_request(f"Filtering is supported on {supported} (with eq)", "invalidFilter")
    if not isinstance(node, F.Compare) or node.op != "eq":
        raise bad_request(f"Only eq is supported in filters (on {supported})", "invalidFilter")
    return field(node.value)
