"""SPEC §5 (lists paged with ``limit``/``offset``), §12 (operations at scale), README
"Decisions on lists": ``GET /api/v1/scim-tokens/`` answered every token of the tenant at once
and ignored ``?limit=`` and ``?offset=`` (any unknown parameter too), so a client asking for a
page got them all. It now pages as the key and member lists do (same parameters, bounds,
``total``/``limit``/``offset``, 400 ``VALIDATION_ERROR`` naming a bad value or an unknown
parameter), newest first then by id, with the same queries for 3 tokens or 9."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scim.models import ScimToken
from scim.services import tokens as token_services

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/scim-tokens/"


def _grow(world: dict[str, Any], first: int, count: int) -> None:
    for n in range(first, first + count):
        token_services.scim_token_create(tenant=world["tenant"], name=f"IdP {n:02d}", actor=world["owner"])


def _cost(api: Any, params: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
    api.get(TOKENS, params)
    built = 0
    original = ScimToken.from_db

    def from_db(*args: Any, **kwargs: Any) -> Any:
        nonlocal built
        built += 1
        return original(*args, **kwargs)

    with CaptureQueriesContext(connection) as captured, mock.patch.object(ScimToken, "from_db", from_db):
        r = api.get(TOKENS, params)
    assert r.status_code == 200, r.content
    return len(captured), built, r.json()


def test_a_page_of_tokens_costs_the_same_for_3_or_9_tokens(api, world):
    api.force_login(world["owner"])
    _grow(world, 0, 3)
    few_queries, few_built, few = _cost(api, {"limit": 2, "offset": 1})
    _grow(world, 3, 6)
    many_queries, many_built, many = _cost(api, {"limit": 2, "offset": 1})
    assert (few["total"], many["total"]) == (3, 9)
    assert len(few["tokens"]) == len(many["tokens"]) == 2
    assert (many["limit"], many["offset"]) == (2, 1)
    assert many_queries == few_queries, (few_queries, many_queries)
    assert many_built == few_built == 2, (few_built, many_built)


def test_the_pages_together_read_each_token_once_newest_first(api, world):
    api.force_login(world["owner"])
    _grow(world, 0, 7)
    seen: list[dict[str, Any]] = []
    for offset in range(0, 8, 3):
        page = api.get(TOKENS, {"limit": 3, "offset": offset}).json()
        assert page["total"] == 7 and len(page["tokens"]) <= 3
        seen += page["tokens"]
    assert len(seen) == len({t["id"] for t in seen}) == 7
    created = [t["created_at"] for t in seen]
    assert created == sorted(created, reverse=True)
    assert [t["name"] for t in seen][0] == "IdP 06"
    assert api.get(TOKENS).json()["limit"] == 50


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "201"),
        ("limit", "ten"),
        ("offset", "-1"),
        ("offset", "1000001"),
        ("limt", "5"),
    ],
)
def test_bad_paging_values_are_a_validation_error_naming_them(api, world, param, value):
    api.force_login(world["owner"])
    r = api.get(TOKENS, {param: value})
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR" and param in r.json()["details"]["fields"], r.content
