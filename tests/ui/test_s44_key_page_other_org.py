"""A key's page opened while another org is current (a link a colleague pasted, a bookmark, an
audit entry): SPEC §4 resolves the org per request, and the key lives in exactly one. When the
person may see the key in its own org, the page opens there (a redirect naming that org);
otherwise it is the 404 it always was, never a hint that the key exists (SPEC §1, §2a)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, add_member, make_key, make_tenant

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_page_opens_in_the_org_that_holds_the_key():
    tenant, owner, (org1, org2) = make_tenant(orgs=2)
    key, _ = make_key(user=owner, tenant=tenant, org=org2, name="Second org key")
    client = signed_in(owner)
    assert client.get("/keys/").status_code == 200  # the first org is current
    page = client.get(f"/keys/{key.public_id}/")
    assert page.status_code == 302
    assert page["Location"] == f"/keys/{key.public_id}/?organizationId={org2.public_id}"
    shown = client.get(page["Location"])
    assert shown.status_code == 200 and "Second org key" in shown.content.decode()


def test_a_key_out_of_reach_stays_a_404():
    tenant, owner, (org1, org2) = make_tenant(orgs=2)
    member = add_member(org1, "member")
    key, _ = make_key(user=owner, tenant=tenant, org=org2, name="Out of reach")
    assert signed_in(member).get(f"/keys/{key.public_id}/").status_code == 404


def test_another_persons_key_a_member_cannot_see_stays_a_404():
    tenant, owner, (org1, org2) = make_tenant(orgs=2)
    member = add_member(org1, "member")
    add_member(org2, "member", user=member)
    key, _ = make_key(user=owner, tenant=tenant, org=org2, name="The owner's")
    assert signed_in(member).get(f"/keys/{key.public_id}/").status_code == 404


def test_another_tenants_key_stays_a_404():
    make_tenant(name="Mine")
    other, other_owner, (other_org,) = make_tenant(name="Theirs")
    key, _ = make_key(user=other_owner, tenant=other, org=other_org, name="Theirs")
    _, me, _ = make_tenant(name="Me")
    assert signed_in(me).get(f"/keys/{key.public_id}/").status_code == 404


def test_an_org_named_in_the_link_is_kept():
    tenant, owner, (org1, org2) = make_tenant(orgs=2)
    key, _ = make_key(user=owner, tenant=tenant, org=org2, name="Second org key")
    page = signed_in(owner).get(f"/keys/{key.public_id}/", {"organizationId": org1.public_id})
    assert page.status_code == 404  # the link asked for org1 explicitly: not silently another
