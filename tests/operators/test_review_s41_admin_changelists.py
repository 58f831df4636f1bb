"""SPEC §10 (operators: the admin) and §12 (operations at scale): every changelist of the
admin costs the same queries for a deployment of 3 of everything as for 9 (tenants, orgs,
memberships, users, keys, scans, audit entries, SCIM users and groups)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin as django_admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs import members as member_services
from scans import services as scan_services
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.scim.conftest import make_directory

pytestmark = pytest.mark.django_db
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _grow(first: int, count: int) -> None:
    for n in range(first, first + count):
        tenant, owner, (org,) = make_tenant(name=f"Client {n}")
        person = add_member(org, "member", UserFactory(email=f"p{n:02d}@example.com"))
        make_key(user=owner, tenant=tenant, org=org, name=f"k{n}")
        make_key(user=owner, tenant=tenant, org=None, name=f"u{n}")
        member_services.member_add_by_email(
            organization=org, email=f"i{n}@invited.test", role="member", actor=owner, accept_url=lambda t: t
        )
        scan_services.scan_upload(
            organization=org,
            scanner="nmap",
            target="x",
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            uploaded_by_user=person,
        )
        directory = make_directory(f"Dir {n}", f"dir{n}.test")
        r = directory.scim.post("/Users", {"schemas": [USER], "userName": f"a@dir{n}.test", "active": True})
        directory.scim.post("/Groups", {"schemas": [GROUP], "displayName": "G", "members": [{"value": r.json()["id"]}]})


def _changelists() -> list[str]:
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model, model_admin in django_admin.site._registry.items()
        if model_admin.has_module_permission
    ]


def test_every_changelist_costs_the_same_queries_for_3_or_9_rows():
    admin = superuser_in_admin()
    pages = _changelists()
    _grow(0, 3)
    few = {}
    for page in pages:
        admin.get(page)
        with CaptureQueriesContext(connection) as captured:
            r = admin.get(page)
        if r.status_code != 200:
            continue
        few[page] = len(captured)
    _grow(3, 6)
    grown = {}
    for page in few:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(page).status_code == 200
        grown[page] = len(captured)
    assert {p: (few[p], grown[p]) for p in few if few[p] != grown[p]} == {}
    assert len(few) > 10, sorted(set(pages) - set(few))
    for page in (
        "/admin/apikeys/apikey/",
        "/admin/audit/auditevent/",
        "/admin/accounts/user/",
        "/admin/scim/scimgroup/",
    ):
        assert page in few, sorted(few)
