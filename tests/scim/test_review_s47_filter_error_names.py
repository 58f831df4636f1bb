"""A filter the service cannot answer is a 400 ``invalidFilter`` whose ``detail`` tells the
identity provider's admin what to change, in SCIM's own words (RFC 7644 §3.4.2.2, §3.12;
docs/scim.md §6 Filters). ``id eq 5`` said "Compare public_id with a string", ``externalId eq
5`` "Compare external_id …", a Group's ``displayName eq 5`` "Compare display_name …": database
column names, which name nothing the client sent and show the schema behind it. Every filter
error names SCIM attributes only, spelled as the schema spells them."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.django_db

SEARCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
COLUMN = re.compile(r"\b[a-z]+_[a-z_]+\b")  # public_id, external_id, display_name, user_name_key…


def _detail(r) -> str:
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["scimType"] == "invalidFilter"
    return body["detail"]


@pytest.mark.parametrize(
    ("resource", "attribute"),
    [
        ("Users", "id"),
        ("Users", "externalId"),
        ("Users", "userName"),
        ("Users", "displayName"),
        ("Users", "active"),
        ("Groups", "id"),
        ("Groups", "externalId"),
        ("Groups", "displayName"),
        ("Groups", "members"),
    ],
)
@pytest.mark.parametrize("value", ["5", "null", '"x"', "true"])
def test_a_type_error_names_the_scim_attribute(acme, resource: str, attribute: str, value: str) -> None:
    expected_string = attribute != "active"
    if (value == '"x"') == expected_string or (value == "true" and not expected_string):
        return  # a well-typed comparison
    for r in (
        acme.scim.get(f"/{resource}", QUERY_STRING="filter=" + quote(f"{attribute} eq {value}")),
        acme.scim.post(f"/{resource}/.search", {**SEARCH, "filter": f"{attribute} eq {value}"}),
    ):
        detail = _detail(r)
        assert re.search(rf"\b{re.escape(attribute)}\b", detail), detail
        assert not COLUMN.search(detail), detail


@pytest.mark.parametrize(
    ("resource", "names"),
    [
        ("Users", ["userName", "externalId", "displayName", "id", "active"]),
        ("Groups", ["displayName", "externalId", "id", "members", "members.value"]),
    ],
)
def test_the_supported_attributes_are_named_as_the_schema_spells_them(acme, resource: str, names: list[str]) -> None:
    for text in ('title eq "x"', 'userName gt "a"' if resource == "Users" else 'displayName gt "a"'):
        detail = _detail(acme.scim.get(f"/{resource}", QUERY_STRING="filter=" + quote(text)))
        for name in names:
            assert re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", detail), (name, detail)
        assert not COLUMN.search(detail), detail
