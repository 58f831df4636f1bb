"""SCIM reads its query parameters case-insensitively (``filter``, ``Filter``), and a
parameter sent twice answered for one of them silently: ``?filter=userName eq "ada@…"&
filter=userName eq "bob@…"`` listed only one person, ``?count=1&Count=100`` one page size
of the two. As on the rest of the API (SPEC §3), a parameter sent several times with
different values is a 400 naming it, in RFC 7644's error shape; the same value twice is one
value."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.scim.conftest import provision

pytestmark = pytest.mark.django_db


def _filter(email: str) -> str:
    return quote(f'userName eq "{email}"')


@pytest.mark.parametrize(
    "query",
    [
        "filter={ada}&filter={bob}",
        "filter={ada}&Filter={bob}",
        "count=1&Count=100",
        "startIndex=1&startindex=2",
    ],
)
def test_a_parameter_sent_twice_with_different_values_is_refused(acme, query: str) -> None:
    provision(acme, "ada@acme.test")
    provision(acme, "bob@acme.test")
    r = acme.scim.get("/Users", QUERY_STRING=query.format(ada=_filter("ada@acme.test"), bob=_filter("bob@acme.test")))
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["status"] == "400" and body["scimType"] == "invalidValue"
    assert "several times" in body["detail"]


def test_the_same_value_twice_is_one_value(acme) -> None:
    provision(acme, "ada@acme.test")
    r = acme.scim.get("/Users", QUERY_STRING=f"filter={_filter('ada@acme.test')}&filter={_filter('ada@acme.test')}")
    assert r.status_code == 200 and r.json()["totalResults"] == 1
