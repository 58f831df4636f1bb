"""SPEC §5 (lists paged with ``limit``/``offset``), §12 (operations at scale), README
"Decisions on lists" (``limit`` at most 200, ``offset`` at most 1,000,000, anything else a 400
``VALIDATION_ERROR`` naming the parameter; a total order ending on a unique column):
``GET /api/v1/organizations/`` answered every organization at once and refused ``?limit=``,
so a tenant of thousands of orgs read them all on each call, and a client could not page it
as it pages keys and members. It now takes the same ``limit``/``offset`` and answers
``total``, ``limit`` and ``offset``; a page loads that page's rows with the same queries
whatever the number of orgs."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs import services as org_services
from orgs.models import Organization
from tests.factories import make_key

pytestmark = pytest.mark.django_db

ORGS = "/api/v1/organizations/"


def _grow(world: dict[str, Any], first: int, count: int) -> None:
    for n in range(first, first + count):
        # Same name twice: the order must still be total (then by id).
        org_services.org_create(tenant=world["tenant"], name=f"Branch {n // 2:02d}")


def _unbound(world: dict[str, Any]) -> str:
    return make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")[1]


def _cost(api: Any, raw: str, params: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
    api.get(ORGS, params, HTTP_X_API_KEY=raw)  # warm the key
    built = 0
    original = Organization.from_db

    def from_db(*args: Any, **kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return original(*args, **kwargs)

    with CaptureQueriesContext(connection) as captured, mock.patch.object(Organization, "from_db", from_db):
        r = api.get(ORGS, params, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    return len(captured), built, r.json()


def test_a_page_of_orgs_costs_the_same_for_3_or_9_more_orgs(api, world):
    raw = _unbound(world)
    _grow(world, 0, 3)
    few_queries, few_built, few = _cost(api, raw, {"limit": 2, "offset": 1})
    _grow(world, 3, 6)
    many_queries, many_built, many = _cost(api, raw, {"limit": 2, "offset": 1})
    assert (few["total"], many["total"]) == (2 + 3, 2 + 9)
    assert len(few["organizations"]) == len(many["organizations"]) == 2
    assert (many["limit"], many["offset"]) == (2, 1)
    assert many_queries == few_queries, (few_queries, many_queries)
    assert many_built == few_built <= 3, (few_built, many_built)


def test_the_pages_together_read_each_org_once_in_order(api, world):
    raw = _unbound(world)
    _grow(world, 0, 7)
    whole = api.get(ORGS, {"limit": 200}, HTTP_X_API_KEY=raw).json()
    assert whole["total"] == len(whole["organizations"]) == 9
    seen: list[dict[str, Any]] = []
    offset = 0
    while offset < whole["total"]:
        page = api.get(ORGS, {"limit": 2, "offset": offset}, HTTP_X_API_KEY=raw).json()
        assert page["total"] == 9 and len(page["organizations"]) <= 2
        seen += page["organizations"]
        offset += 2
    assert [o["id"] for o in seen] == [o["id"] for o in whole["organizations"]]
    assert len({o["id"] for o in seen}) == 9
    names = [o["name"] for o in seen]
    assert names == sorted(names)
    # The default page is 50, as on the other lists.
    assert api.get(ORGS, HTTP_X_API_KEY=raw).json()["limit"] == 50


def test_a_session_pages_the_orgs_it_reaches(api, world):
    _grow(world, 0, 3)
    api.force_login(world["owner"])
    first = api.get(ORGS, {"limit": 3}).json()
    rest = api.get(ORGS, {"limit": 3, "offset": 3}).json()
    assert first["total"] == rest["total"] == 5
    ids = [o["id"] for o in first["organizations"] + rest["organizations"]]
    assert len(ids) == len(set(ids)) == 5
    narrowed = api.get(ORGS, {"limit": 1, "tenantId": world["tenant"].public_id}).json()
    assert narrowed["total"] == 5 and len(narrowed["organizations"]) == 1


def test_an_org_scoped_key_still_sees_its_one_org(api, world):
    _grow(world, 0, 3)
    body = api.get(ORGS, {"limit": 5}, HTTP_X_API_KEY=world["owner_raw"]).json()
    assert body["total"] == 1 and [o["id"] for o in body["organizations"]] == [world["org1"].public_id]
    assert api.get(ORGS, {"offset": 1}, HTTP_X_API_KEY=world["owner_raw"]).json()["organizations"] == []


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", "0"), ("limit", "-1"), ("limit", "201"), ("limit", "ten"), ("offset", "-1"), ("offset", "1000001")],
)
def test_bad_paging_values_are_a_validation_error_naming_them(api, world, param, value):
    r = api.get(ORGS, {param: value}, HTTP_X_API_KEY=_unbound(world))
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR" and param in r.json()["details"]["fields"], r.content


def test_a_misspelt_parameter_is_still_refused(api, world):
    r = api.get(ORGS, {"limt": "5"}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400 and "limt" in r.json()["details"]["fields"], r.content
