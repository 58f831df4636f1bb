"""SPEC §5 (``GET keys/``: filters, paging with ``limit``/``offset``) and §12: a script that
revokes every active key page by page (``?status=active&limit=…&offset=…``, revoke each,
next offset) skipped half of them: each revocation takes a key out of the filtered list, so
the next offset jumps over as many keys as were revoked. ``limit``/``offset`` stay as they
are; ``starting_after=<key id>`` (Stripe's cursor) continues after the last key seen, whatever
was created, revoked or filtered out meanwhile, and ``has_more`` says whether to go on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_key

pytestmark = pytest.mark.django_db
URL = "/api/v1/keys/"


def _keys(world: dict[str, Any], count: int) -> None:
    for n in range(count):
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"batch {n:02d}")


def _page(api: Any, world: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = api.get(URL, params, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    return r.json()


def test_revoking_every_active_key_page_by_page_reaches_them_all(api, world):
    _keys(world, 10)
    revoked: list[str] = []
    params: dict[str, Any] = {"status": "active", "limit": 3}
    while True:
        body = _page(api, world, **params)
        for key in body["keys"]:
            if key["name"].startswith("batch"):
                r = api.post(f"{URL}{key['id']}/revoke/", HTTP_X_API_KEY=world["owner_raw"])
                assert r.status_code == 200, r.content
                revoked.append(key["name"])
        if not body["has_more"]:
            break
        params["starting_after"] = body["keys"][-1]["id"]
    assert sorted(revoked) == [f"batch {n:02d}" for n in range(10)]


def test_a_key_created_between_pages_is_not_read_twice(api, world):
    _keys(world, 6)
    first = _page(api, world, limit=3)
    assert first["has_more"] is True
    _keys(world, 1)
    second = _page(api, world, limit=3, starting_after=first["keys"][-1]["id"])
    ids = [k["id"] for k in first["keys"] + second["keys"]]
    assert len(set(ids)) == len(ids) == 6
    # The whole list, as without a cursor: an org key lists its owner's keys (SPEC §2a).
    assert second["total"] == 8
    third = _page(api, world, limit=3, starting_after=second["keys"][-1]["id"])
    assert [k["name"] for k in third["keys"]] == ["owner key"] and third["has_more"] is False


def test_offset_paging_is_unchanged_and_says_has_more(api, world):
    _keys(world, 4)
    body = _page(api, world, limit=2, offset=0)
    assert (body["limit"], body["offset"], body["total"], len(body["keys"]), body["has_more"]) == (2, 0, 5, 2, True)
    body = _page(api, world, limit=2, offset=3)
    assert (len(body["keys"]), body["has_more"]) == (2, False)


@pytest.mark.parametrize("anchor", ["nope", "", "key-00000000-0000-0000-0000-000000000000", "other"])
def test_a_cursor_outside_the_callers_reach_is_a_catalog_400(api, world, anchor):
    if anchor == "other":
        anchor = world["other_key"].public_id  # another tenant's key: never a position to leak
    r = api.get(URL, {"starting_after": anchor}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR"
