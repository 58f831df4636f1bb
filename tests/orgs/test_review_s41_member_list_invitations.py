"""SPEC §5 (``GET organizations/{id}/members/``, paged with ``limit``/``offset``), §12
(operations at scale): the member list is paged, but every page repeated the org's whole
``pending_invitations`` list. An org with thousands of pending invitations (a mass invite,
an identity-provider rollout) answered every page of 50 members with thousands of
invitations. Now the same ``limit``/``offset`` page both lists: a page carries at most
``limit`` invitations (newest first), ``pending_invitations_total`` says how many are pending,
and turning the pages reads each invitation once; readers without ``members:write`` still
get none. Bad paging is a 400 in the catalog format."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs import members as member_services
from tests.factories import UserFactory, add_member, make_key

pytestmark = pytest.mark.django_db


def url(world: dict[str, Any]) -> str:
    return f"/api/v1/organizations/{world['org1'].public_id}/members/"


def _invite(world: dict[str, Any], first: int, count: int) -> None:
    for n in range(first, first + count):
        member_services.member_add_by_email(
            organization=world["org1"],
            email=f"i{n:03d}@invited.test",
            role="member",
            actor=world["owner"],
            accept_url=lambda token: token,
        )


def _get(api: Any, world: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = api.get(url(world), params, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    return r.json()


def test_a_page_carries_at_most_limit_invitations_and_the_pages_read_each_once(api, world):
    _invite(world, 0, 7)
    seen: list[str] = []
    for offset in (0, 3, 6, 9):
        body = _get(api, world, limit=3, offset=offset)
        assert len(body["pending_invitations"]) <= 3
        assert body["pending_invitations_total"] == 7
        seen += [i["email"] for i in body["pending_invitations"]]
    assert sorted(seen) == [f"i{n:03d}@invited.test" for n in range(7)]
    assert seen == [f"i{n:03d}@invited.test" for n in reversed(range(7))]  # newest first
    # The member fields are as before.
    body = _get(api, world)
    assert (body["limit"], body["offset"], body["total"]) == (50, 0, 4)
    assert len(body["pending_invitations"]) == 7


def test_a_page_costs_the_same_queries_for_3_or_9_invitations(api, world):
    _invite(world, 0, 3)
    for n in range(3):
        add_member(world["org1"], "member", UserFactory(email=f"m{n}@example.com"))
    _get(api, world, limit=2)  # warm the key
    with CaptureQueriesContext(connection) as few:
        _get(api, world, limit=2)
    _invite(world, 3, 6)
    for n in range(3, 9):
        add_member(world["org1"], "member", UserFactory(email=f"m{n}@example.com"))
    with CaptureQueriesContext(connection) as many:
        body = _get(api, world, limit=2)
    assert len(many) == len(few), (len(few), len(many))
    assert len(body["pending_invitations"]) == 2 and body["pending_invitations_total"] == 9


def test_readers_without_members_write_get_no_invitations_and_no_count(api, world):
    _invite(world, 0, 3)
    _, raw = make_key(user=world["admin"], tenant=world["tenant"], org=world["org1"], scopes=["members:read"])
    r = api.get(url(world), HTTP_X_API_KEY=raw)
    assert r.status_code == 200
    assert (r.json()["pending_invitations"], r.json()["pending_invitations_total"]) == ([], 0)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"offset": -1}, {"offset": "x"}, {"offset": 10**12}],
)
def test_bad_paging_is_a_catalog_400(api, world, params):
    r = api.get(url(world), params, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400
    assert r.json()["error"] == "VALIDATION_ERROR"
