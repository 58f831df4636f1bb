"""SPEC §12 (operations at scale) and §5 (``GET organizations/{id}/members/``, paged with
``limit``/``offset``): a page of the member list reads that page from the database. Every
request loaded every member of the org and every owner/admin of the tenant (rows and
accounts), then cut the page out in Python: in a tenant of thousands of provisioned people,
each page of 50 read them all. A page now loads about as many accounts as it shows,
whether the org has 3 members or 9, with the same queries; the answer is unchanged (ordered
by email, tenant roles merged into the org's rows, the total)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs import services as org_services
from orgs.models import OrgMembership, TenantMembership
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


def url(world: dict[str, Any]) -> str:
    return f"/api/v1/organizations/{world['org1'].public_id}/members/"


def _page_cost(api: Any, world: dict[str, Any], **params: Any) -> tuple[int, int, dict[str, Any]]:
    """(queries, member rows and accounts built, the answer) of one page."""
    api.get(url(world), params, HTTP_X_API_KEY=world["owner_raw"])  # warm the key
    built = 0
    models = (get_user_model(), OrgMembership, TenantMembership)
    originals = {model: model.from_db for model in models}

    def counting(model: Any) -> Any:
        def from_db(*args: Any, **kwargs: Any) -> Any:
            nonlocal built
            built += 1
            return originals[model](*args, **kwargs)

        return from_db

    with CaptureQueriesContext(connection) as captured:
        with _patched(models, counting):
            r = api.get(url(world), params, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    return len(captured), built, r.json()


class _patched:
    def __init__(self, models: tuple[Any, ...], wrap: Any) -> None:
        self.patches = [mock.patch.object(model, "from_db", wrap(model)) for model in models]

    def __enter__(self) -> None:
        for patch in self.patches:
            patch.start()

    def __exit__(self, *exc: object) -> None:
        for patch in self.patches:
            patch.stop()


def _grow(world: dict[str, Any], count: int, first: int) -> None:
    for n in range(first, first + count):
        add_member(world["org1"], "member", user=UserFactory(email=f"m{n:02d}@example.com"))
        admin = UserFactory(email=f"t{n:02d}@example.com")
        org_services.tenant_member_set(tenant=world["tenant"], user=admin, role="admin", actor=world["owner"])


def test_a_page_of_members_reads_that_page_whatever_the_org_size(api, world):
    _grow(world, 3, 0)
    few_queries, few_built, few = _page_cost(api, world, limit=2, offset=2)
    _grow(world, 6, 3)
    many_queries, many_built, many = _page_cost(api, world, limit=2, offset=2)
    assert few["total"] == 4 + 6 and many["total"] == 4 + 18
    assert len(few["members"]) == len(many["members"]) == 2
    assert many_queries == few_queries, (few_queries, many_queries)
    assert many_built == few_built, (few_built, many_built)


def test_the_pages_together_are_the_whole_list_in_email_order(api, world):
    _grow(world, 4, 0)
    org_services.tenant_member_set(tenant=world["tenant"], user=world["viewer"], role="admin", actor=world["owner"])
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = api.get(url(world), {"limit": 3, "offset": offset}, HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200
        page = r.json()["members"]
        if not page:
            break
        seen += page
        offset += 3
    emails = [row["email"] for row in seen]
    assert emails == sorted(emails) and len(set(emails)) == len(emails) == 4 + 8
    viewer = next(row for row in seen if row["email"] == world["viewer"].email)
    assert (viewer["role"], viewer["tenant_role"], viewer["effective_role"]) == ("viewer", "admin", "admin")
    owner = next(row for row in seen if row["email"] == world["owner"].email)
    assert (owner["role"], owner["tenant_role"]) == (None, "owner")
    r = api.get(url(world), {"offset": 50}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200 and r.json()["members"] == [] and r.json()["total"] == 12
