"""POST /.search pages over Users then Groups as one result (RFC 7644 §3.4.3, §3.4.2.4):
``totalResults`` counts every match and ``startIndex``/``count`` walk them all, however large
the directory. A page past the first ``filter.maxResults`` Users must hold the next Users,
not skip to the Groups (review s41)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from scim.models import ScimGroup, ScimUser
from tater.emails import normalize_email

pytestmark = pytest.mark.django_db

SEARCH = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}


def fill(acme, users: int, groups: int) -> None:
    ScimUser.objects.bulk_create(
        ScimUser(
            tenant=acme.tenant,
            user_name=f"p{i:03}@elsewhere.test",
            user_name_key=normalize_email(f"p{i:03}@elsewhere.test"),
        )
        for i in range(users)
    )
    ScimGroup.objects.bulk_create(
        ScimGroup(tenant=acme.tenant, display_name=f"G{i}", display_name_key=f"g{i}") for i in range(groups)
    )


def walk(acme, count: int) -> tuple[int, list[str]]:
    seen: list[str] = []
    start, total = 1, None
    while True:
        r = acme.scim.post("/.search", {**SEARCH, "startIndex": start, "count": count})
        assert r.status_code == 200, r.content
        body = r.json()
        total = body["totalResults"]
        page = body["Resources"]
        assert body["itemsPerPage"] == len(page) and body["startIndex"] == start
        if not page:
            return total, seen
        seen += [resource["id"] for resource in page]
        start += len(page)


@override_settings(TATER_SCIM_MAX_COUNT=5)
def test_paging_the_root_search_visits_every_resource_once(acme):
    fill(acme, users=12, groups=4)
    users = ScimUser.objects.filter(tenant=acme.tenant, deleted_at__isnull=True).count()
    total, seen = walk(acme, count=5)
    assert total == users + 4
    assert len(seen) == total and len(set(seen)) == total
    expected_users = set(
        ScimUser.objects.filter(tenant=acme.tenant, deleted_at__isnull=True).values_list("public_id", flat=True)
    )
    expected_groups = set(ScimGroup.objects.filter(tenant=acme.tenant).values_list("public_id", flat=True))
    assert set(seen) == expected_users | expected_groups
    # Users first, then Groups.
    assert set(seen[:users]) == expected_users


@override_settings(TATER_SCIM_MAX_COUNT=5)
def test_a_page_straddling_users_and_groups(acme):
    fill(acme, users=7, groups=3)
    users = ScimUser.objects.filter(tenant=acme.tenant, deleted_at__isnull=True).count()
    r = acme.scim.post("/.search", {**SEARCH, "startIndex": users - 1, "count": 4})
    body = r.json()
    kinds = [resource["meta"]["resourceType"] for resource in body["Resources"]]
    assert kinds == ["User", "User", "Group", "Group"]
