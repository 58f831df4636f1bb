"""A Group posted with 10,000 members (SPEC §13 Users and Groups; §12 operations at scale;
docs/scim.md §6: one request sends at most 10,000 members) took seconds, most of it loading
every member's whole User row and their account (``select_related("user")``: profile JSON,
remembered roles, the account's columns) to write 10,000 membership rows that need only the
members' row ids. An unmapped group's members are now looked up by id alone: the members
land, in a bounded number of queries, and no member's account or profile is read. Asserted
on the SQL the request runs, never on wall-clock time."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scim.models import ScimUser
from tests.scim.conftest import patch_op

pytestmark = pytest.mark.django_db

SIZE = 10_000
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_QUERIES = 40  # authentication, throttle, audit chain, the inserts in batches: not per member


def _people(d: Any, prefix: str) -> list[str]:
    rows = ScimUser.objects.bulk_create(
        ScimUser(
            tenant=d.tenant,
            user_name=f"{prefix}{i}@elsewhere.test",
            user_name_key=f"{prefix}{i}@elsewhere.test",
            attributes={"displayName": f"Person {i}", "name": {"givenName": "P", "familyName": str(i)}},
        )
        for i in range(SIZE)
    )
    return [u.public_id for u in rows]


def _reads_no_member_details(queries: list[dict[str, str]]) -> None:
    accounts = get_user_model()._meta.db_table
    profile = f'"{ScimUser._meta.db_table}"."attributes"'
    for q in queries:
        sql = q["sql"]
        if len(sql) < 20_000:
            continue  # only the statements about the 10,000 members
        # Booleans first: pytest would otherwise diff a statement of a megabyte.
        reads_accounts, reads_profiles = accounts in sql, profile in sql
        assert not reads_accounts, sql[:300]
        assert not reads_profiles, sql[:300]


def _member_count(d: Any, group_id: str) -> int:
    r = d.scim.get(f"/Groups/{group_id}")
    assert r.status_code == 200
    return len(r.json().get("members", []))


def test_posting_a_ten_thousand_member_group(acme, django_assert_max_num_queries) -> None:
    ids = _people(acme, "p")
    body = {"schemas": [GROUP], "displayName": "All staff", "members": [{"value": i} for i in ids]}
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as seen:
        r = acme.scim.post("/Groups", body, QUERY_STRING="excludedAttributes=members")
    assert r.status_code == 201, r.content[:300]
    _reads_no_member_details(seen.captured_queries)
    assert _member_count(acme, r.json()["id"]) == SIZE


def test_replacing_and_adding_ten_thousand_members(acme, django_assert_max_num_queries) -> None:
    first, second = _people(acme, "a"), _people(acme, "b")
    group = acme.scim.post("/Groups", {"schemas": [GROUP], "displayName": "Staff"}).json()
    url = f"/Groups/{group['id']}"
    add = patch_op({"op": "add", "path": "members", "value": [{"value": i} for i in first]})
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as seen:
        r = acme.scim.patch(url, add, QUERY_STRING="excludedAttributes=members")
    assert r.status_code == 200, r.content[:300]
    _reads_no_member_details(seen.captured_queries)
    assert _member_count(acme, group["id"]) == SIZE

    put = {"schemas": [GROUP], "displayName": "Staff", "members": [{"value": i} for i in second]}
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as seen:
        r = acme.scim.put(url, put, QUERY_STRING="excludedAttributes=members")
    assert r.status_code == 200, r.content[:300]
    _reads_no_member_details(seen.captured_queries)
    members = acme.scim.get(url).json()["members"]
    assert sorted(m["value"] for m in members) == sorted(second)
