"""SPEC §5 (paged lists), §12 (operations at scale), §3 (the error catalog): every paged list
of the API has a page bound, and a bad ``limit`` or ``offset`` is a 400 ``VALIDATION_ERROR``
in the catalog format, never a page of everything or a 500 (README "Decisions on lists")."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

LISTS = {
    "keys": ("/api/v1/keys/", 200),
    "scans": ("/api/v1/scans/", 200),
    "members": ("/api/v1/organizations/{org}/members/", 200),
    "audit": ("/api/v1/audit-log/", 500),
}


def _url(world: dict[str, Any], name: str) -> str:
    return LISTS[name][0].format(org=world["org1"].public_id)


@pytest.mark.parametrize("name", sorted(LISTS))
def test_the_largest_page_is_served(api: Any, world: dict[str, Any], name: str) -> None:
    r = api.get(_url(world, name), {"limit": LISTS[name][1]}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("name", sorted(LISTS))
@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "over"])
def test_a_bad_limit_is_a_catalog_400(api: Any, world: dict[str, Any], name: str, bad: str) -> None:
    limit = str(LISTS[name][1] + 1) if bad == "over" else bad
    r = api.get(_url(world, name), {"limit": limit}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400, (limit, r.content)
    assert r.json()["error"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("name", ["keys", "scans", "members"])
@pytest.mark.parametrize("bad", ["-1", "abc", "1000001", "99999999999999999999999"])
def test_a_bad_offset_is_a_catalog_400(api: Any, world: dict[str, Any], name: str, bad: str) -> None:
    r = api.get(_url(world, name), {"offset": bad}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400, (bad, r.content)
    assert r.json()["error"] == "VALIDATION_ERROR"
