"""A tenant's directory renames only accounts it speaks for (SPEC §8: a tenant speaks only for
addresses in the domains it has verified; SPEC §1: nothing of one tenant reaches another's).

A guest's name belongs to the guest's account: sam@acme.test is Acme's (acme.test is its
verified domain), bob@freemail.test is Bob's own. Globex's identity provider sending another
name for them (a PUT, a PATCH, a POST that links them) changes Globex's User, which Globex
reads back as sent, never the account's name, which other tenants and the person see. The
account's email follows the same rule already (docs/scim.md §4, review s42)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from orgs import services as org_services
from scim.models import ScimUser
from tests.factories import UserFactory
from tests.scim.conftest import new_user, patch_op, provision

pytestmark = pytest.mark.django_db

User = get_user_model()


def listed(directory: Any, user: Any) -> str:
    return ScimUser.objects.get(tenant=directory.tenant, user=user, deleted_at__isnull=True).public_id


@pytest.fixture
def sam(acme, globex) -> Any:
    """Sam's employer Acme provisioned and then let him go; he is a guest at Globex only."""
    acme_id = provision(acme, "sam@acme.test", name={"givenName": "Sam", "familyName": "Acme"})["id"]
    user = User.objects.get(email="sam@acme.test")
    org_services.org_member_set(organization=globex.orgs[0], user=user, role="member")
    r = acme.scim.patch(f"/Users/{acme_id}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert r.status_code == 200, r.content
    return user


def test_a_guest_tenants_patch_does_not_rename_the_account(globex, sam):
    r = globex.scim.patch(
        f"/Users/{listed(globex, sam)}",
        patch_op({"op": "Replace", "value": {"name.givenName": "Mallory", "name.familyName": "Evil"}}),
    )
    assert r.status_code == 200, r.content
    assert r.json()["name"] == {"givenName": "Mallory", "familyName": "Evil"}  # Globex's view, as sent
    sam.refresh_from_db()
    assert (sam.first_name, sam.last_name) == ("Sam", "Acme")


def test_a_guest_tenants_put_does_not_rename_the_account(globex, sam):
    user_id = listed(globex, sam)
    r = globex.scim.put(f"/Users/{user_id}", new_user("sam@acme.test", name={"givenName": "M", "familyName": "E"}))
    assert r.status_code == 200, r.content
    sam.refresh_from_db()
    assert (sam.first_name, sam.last_name) == ("Sam", "Acme")


def test_a_guest_with_an_address_nobody_verified_keeps_their_own_name(acme):
    bob = UserFactory(email="bob@freemail.test", first_name="Bob", last_name="Own")
    org_services.org_member_set(organization=acme.orgs[0], user=bob, role="member")
    r = acme.scim.patch(
        f"/Users/{listed(acme, bob)}", patch_op({"op": "replace", "path": "name.givenName", "value": "Robert"})
    )
    assert r.status_code == 200, r.content
    bob.refresh_from_db()
    assert (bob.first_name, bob.last_name) == ("Bob", "Own")


def test_a_pending_guest_user_linked_later_does_not_rename_them(acme):
    created = acme.scim.post("/Users", new_user("bob@freemail.test", name={"givenName": "Evil", "familyName": "X"}))
    assert created.status_code == 201
    bob = UserFactory(email="bob@freemail.test", first_name="Bob", last_name="Own")
    org_services.org_member_set(organization=acme.orgs[0], user=bob, role="member")  # links the pending User
    assert ScimUser.objects.get(public_id=created.json()["id"]).user == bob
    bob.refresh_from_db()
    assert (bob.first_name, bob.last_name) == ("Bob", "Own")


def test_the_domain_owner_still_renames_its_people(acme):
    ada_id = provision(acme, "ada@acme.test")["id"]
    r = acme.scim.patch(f"/Users/{ada_id}", patch_op({"op": "replace", "path": "name.givenName", "value": "Augusta"}))
    assert r.status_code == 200, r.content
    assert User.objects.get(email="ada@acme.test").first_name == "Augusta"
