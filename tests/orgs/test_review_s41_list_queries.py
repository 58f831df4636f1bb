"""SPEC §12 (operations at scale), §9 (UI lists), §5 (API lists): each list the UI and the
API render costs the same database queries for 3 rows as for 9 (keys of several owners and
orgs, uploaded scans, audit entries, organizations): a tenant of thousands pays for a page,
not for its size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orgs import services as org_services
from scans import services as scan_services
from tests.factories import UserFactory, add_member, make_key

pytestmark = pytest.mark.django_db


def _grow(world: dict[str, Any], first: int, count: int) -> None:
    """``count`` more of everything: members with keys, scans uploaded by a key, orgs."""
    for n in range(first, first + count):
        person = add_member(world["org1"], "member", UserFactory(email=f"p{n:02d}@example.com"))
        key, _ = make_key(user=person, tenant=world["tenant"], org=world["org1"], name=f"k{n}", scopes=["scans:write"])
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"o{n}", usage_limit=10)
        scan_services.scan_upload(
            organization=world["org1"],
            scanner=f"scanner{n}",
            target="10.0.0.1",
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            findings=[{"title": "x", "severity": "high"}],
            uploaded_by_user=person,
            uploaded_by_key_id=key.public_id,
            key_prefix=key.display_prefix,
        )
        org_services.org_create(tenant=world["tenant"], name=f"Org {n:02d}")


def _cost(request: Callable[[], Any]) -> int:
    request()  # warm caches
    with CaptureQueriesContext(connection) as captured:
        r = request()
    assert r.status_code == 200, getattr(r, "content", b"")[:300]
    return len(captured)


def _session(world: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(world["owner"])
    return client


PAGES = ["/", "/keys/", "/scans/", "/activity/", "/settings/tenant/outbox/"]
API = ["/api/v1/keys/", "/api/v1/scans/", "/api/v1/audit-log/", "/api/v1/organizations/", "/v1/auth/keys"]


@pytest.mark.parametrize("path", PAGES)
def test_a_ui_list_costs_the_same_queries_for_3_or_9_rows(world: dict[str, Any], path: str) -> None:
    client = _session(world)
    org = {"organizationId": world["org1"].public_id}
    _grow(world, 0, 3)
    few = _cost(lambda: client.get(path, org))
    _grow(world, 3, 6)
    many = _cost(lambda: client.get(path, org))
    assert many == few, (few, many)


@pytest.mark.parametrize("path", API)
def test_an_api_list_costs_the_same_queries_for_3_or_9_rows(api: Any, world: dict[str, Any], path: str) -> None:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
    params = {} if path == "/api/v1/organizations/" else {"organizationId": world["org1"].public_id}
    _grow(world, 0, 3)
    few = _cost(lambda: api.get(path, params, HTTP_X_API_KEY=raw))
    _grow(world, 3, 6)
    many = _cost(lambda: api.get(path, params, HTTP_X_API_KEY=raw))
    assert many == few, (few, many)
