"""SPEC §1: nothing of one tenant is visible to a user of another; a foreign object is a 404.
The SSO settings page named by ``?tenant=`` answered another tenant's id (or a made-up one)
with the 403 "only owners" page, as it answers a member of that very tenant: it told a
stranger the tenant exists. A tenant the user does not belong to is now the 404 page; a
member who is not its owner still reads why they cannot open it.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from tests.factories import add_member, make_tenant

pytestmark = pytest.mark.django_db


def test_a_foreign_or_unknown_tenant_is_not_found(world):
    client = Client()
    client.force_login(world["owner"])
    for named in (world["other_tenant"].public_id, str(uuid.uuid4()), "not-a-tenant"):
        assert client.get("/accounts/sso/", {"tenant": named}).status_code == 404, named
        assert client.post("/accounts/sso/", {"tenant": named, "require_sso": "on"}).status_code == 404, named


def test_a_member_who_is_not_the_owner_reads_why(world):
    client = Client()
    client.force_login(world["member"])
    page = client.get("/accounts/sso/", {"tenant": world["tenant"].public_id})
    assert page.status_code == 403
    _, _, (org,) = make_tenant(name="Elsewhere")
    add_member(org, "admin", world["member"])
    assert client.get("/accounts/sso/", {"tenant": org.tenant.public_id}).status_code == 403
