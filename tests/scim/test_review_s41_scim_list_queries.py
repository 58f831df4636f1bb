"""SPEC §13 (SCIM 2.0 Users and Groups, paging) and §12 (operations at scale): a list of
Users or Groups (``startIndex``/``count``, RFC 7644 §3.4.2.4) costs the same queries for 3
resources as for 9, members included, and never returns more than the advertised
``filter.maxResults``, whatever ``count`` asks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.scim.conftest import DOMAIN, Directory

pytestmark = pytest.mark.django_db
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _push(acme: Directory, first: int, count: int) -> None:
    for n in range(first, first + count):
        r = acme.scim.post("/Users", {"schemas": [USER], "userName": f"p{n}@{DOMAIN}", "active": True})
        assert r.status_code == 201, r.content
        body = {"schemas": [GROUP], "displayName": f"G{n}", "members": [{"value": r.json()["id"]}]}
        assert acme.scim.post("/Groups", body).status_code == 201


def _cost(acme: Directory, path: str) -> int:
    acme.scim.get(path)
    with CaptureQueriesContext(connection) as captured:
        assert acme.scim.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/Users", "/Groups", "/Groups?excludedAttributes=members"])
def test_a_list_costs_the_same_queries_for_3_or_9(acme: Directory, path: str) -> None:
    _push(acme, 0, 3)
    few = _cost(acme, path)
    _push(acme, 3, 6)
    assert _cost(acme, path) == few


def test_count_is_capped_at_the_advertised_max_results(acme: Directory) -> None:
    _push(acme, 0, 3)
    most = acme.scim.get("/ServiceProviderConfig").json()["filter"]["maxResults"]
    for path in ("/Users", "/Groups"):
        body = acme.scim.get(f"{path}?count=100000000&startIndex=1").json()
        assert (
            body["itemsPerPage"] <= most and len(body["Resources"]) == body["itemsPerPage"] == body["totalResults"] >= 3
        )
        total = body["totalResults"]
        body = acme.scim.get(f"{path}?count=1&startIndex=2").json()
        assert (body["totalResults"], body["startIndex"], len(body["Resources"])) == (total, 2, 1)
