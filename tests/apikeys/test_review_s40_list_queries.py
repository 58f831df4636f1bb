"""SPEC §12 (operations at scale), §5 (``GET keys/``) and §5a (Tatry's ``GET /v1/auth/keys``):
a page of keys costs the same database queries whether it shows 3 keys or 9. Each listed
key read its tenant (``tenant_id`` in the answer) in a query of its own: a page of 200 keys
was 200 extra queries, on the API, on Tatry's list (same core) and on every key it names."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import add_member, make_key

pytestmark = pytest.mark.django_db


def _queries(call: Any, *, rows: str, expected: int) -> int:
    call()  # warm the per-process caches (the key, the session)
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content
    body = response.json()
    listed = body["data"]["keys"] if "data" in body else body[rows]
    assert len(listed) == expected
    return len(captured)


def _add_keys(world: dict[str, Any], count: int) -> None:
    for n in range(count):
        person = add_member(world["org1"], "member")
        make_key(user=person, tenant=world["tenant"], org=world["org1"], name=f"member key {n}")
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"owner key {n}")


def test_the_key_list_costs_the_same_queries_for_3_or_9_keys_of_the_org(world):
    session = APIClient()
    session.force_login(world["owner"])
    org = world["org1"].public_id
    listing = lambda: session.get("/api/v1/keys/", {"organizationId": org, "limit": 200})  # noqa: E731
    base = 2  # the world's owner key and member key
    _add_keys(world, 3)
    few = _queries(listing, rows="keys", expected=base + 6)
    _add_keys(world, 6)
    many = _queries(listing, rows="keys", expected=base + 18)
    assert many == few, (few, many)


@pytest.mark.parametrize("path", ["/api/v1/keys/", "/v1/auth/keys"])
def test_a_keys_own_list_costs_the_same_queries_for_3_or_9_keys(world, path):
    client = APIClient()
    own = lambda: client.get(path, {"limit": 200}, HTTP_X_API_KEY=world["owner_raw"])  # noqa: E731
    for n in range(3):
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"k{n}")
    few = _queries(own, rows="keys", expected=4)
    for n in range(6):
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"more {n}")
    many = _queries(own, rows="keys", expected=10)
    assert many == few, (few, many)
