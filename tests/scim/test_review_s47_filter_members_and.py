"""SCIM filters (SPEC §13 "filtering"; RFC 7644 §3.4.2.2): ``members eq "a" and members eq
"b"`` is a Group holding both Users (each comparison on the multi-valued attribute is about
the group). It listed no group, even one holding both: the two comparisons had to hold for
one and the same member."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.scim.conftest import provision

pytestmark = pytest.mark.django_db


def _names(d, path: str, text: str, key: str) -> set[str]:
    r = d.scim.get(path, QUERY_STRING="filter=" + quote(text))
    assert r.status_code == 200, r.content
    return {item[key] for item in r.json()["Resources"]}


def test_members_and_members_finds_the_group_holding_both(acme) -> None:
    ada = provision(acme, "ada@acme.test")
    bob = provision(acme, "bob@acme.test")
    both = acme.scim.post("/Groups", {"displayName": "Both", "members": [{"value": ada["id"]}, {"value": bob["id"]}]})
    assert both.status_code == 201, both.content
    only_ada = acme.scim.post("/Groups", {"displayName": "Ada only", "members": [{"value": ada["id"]}]})
    assert only_ada.status_code == 201, only_ada.content

    found = _names(acme, "/Groups", f'members eq "{ada["id"]}" and members eq "{bob["id"]}"', "displayName")
    assert found == {"Both"}

    r = acme.scim.post(
        "/Groups/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'members.value eq "{ada["id"]}" and members.value eq "{bob["id"]}"',
        },
    )
    assert r.status_code == 200 and [g["displayName"] for g in r.json()["Resources"]] == ["Both"]
