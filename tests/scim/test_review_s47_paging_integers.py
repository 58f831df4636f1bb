"""``startIndex`` and ``count`` are integers (RFC 7644 §3.4.2.4), read the same way from a
GET's query string and a POST ``.search`` body. ``count: 1.7`` in a body was quietly 1 while
``?startIndex=1.5`` was a 400; and Python's ``int()`` read Arabic-Indic digits (``count=١٠``
as 10), ``+10``, `` 10 `` and ``1_0``. Anything but an integer in ASCII digits is a 400
``invalidValue`` in SCIM's error format (docs/scim.md §6), naming the parameter; negative and
out-of-range integers are still interpreted, not refused."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.scim.conftest import provision

pytestmark = pytest.mark.django_db

SEARCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
NOT_INTEGERS = ["1.7", "1.5", "\u0661\u0660", "+10", " 10 ", "1_0", "10.0", "1e1", "０", "ten", "0x10"]


def _refused(r, name: str) -> None:
    assert r.status_code == 400, r.content
    assert r["Content-Type"].startswith("application/scim+json")
    body = r.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "400" and body["scimType"] == "invalidValue"
    assert name in body["detail"]


@pytest.mark.parametrize("name", ["count", "startIndex"])
@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_a_query_string_integer_is_ascii_digits(acme, name: str, value: str) -> None:
    _refused(acme.scim.get("/Users", QUERY_STRING=f"{name}={quote(value)}"), name)


@pytest.mark.parametrize("path", ["/Users/.search", "/Groups/.search", "/.search"])
@pytest.mark.parametrize("name", ["count", "startIndex"])
@pytest.mark.parametrize("value", [1.7, 1.5, 10.0, True, *NOT_INTEGERS])
def test_a_search_body_integer_is_an_integer(acme, path: str, name: str, value) -> None:
    _refused(acme.scim.post(path, {**SEARCH, name: value}), name)


def test_integers_still_page_alike_from_both_paths(acme) -> None:
    for i in range(3):
        provision(acme, f"p{i}@acme.test")
    got = acme.scim.get("/Users", QUERY_STRING="startIndex=2&count=1").json()
    assert got["startIndex"] == 2 and got["itemsPerPage"] == 1 and got["totalResults"] >= 3
    searched = acme.scim.post("/Users/.search", {**SEARCH, "startIndex": 2, "count": 1}).json()
    assert searched["Resources"] == got["Resources"]
    as_strings = acme.scim.post("/Users/.search", {**SEARCH, "startIndex": "2", "count": "1"}).json()
    assert as_strings["Resources"] == got["Resources"]
    # Out of range is interpreted, not refused (RFC 7644 §3.4.2.4).
    low = acme.scim.get("/Users", QUERY_STRING="startIndex=-3&count=-1").json()
    assert low["startIndex"] == 1 and low["Resources"] == []
    assert acme.scim.post("/Users/.search", {**SEARCH, "startIndex": -3, "count": 0}).status_code == 200
