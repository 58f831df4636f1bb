"""A membership someone added by hand is never removed by SCIM (docs/scim.md §5), also
after a mapped group has decided its role: a member who was in the organization before the
identity provider put them in a group stays in it, keys working, with the role they had by
hand, when they leave the group, when the owner unmaps the group and when the identity
provider deletes it. A role the group raised ends with it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from orgs import services as org_services
from orgs.models import OrgMembership
from scim.models import ScimGroup
from scim.services import groups as group_services
from tests.factories import UserFactory, make_key
from tests.scim.conftest import Directory, patch_op

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"


def existing_member_in_viewer_group(
    d: Directory, by_hand: str = "admin", by_group: str = "viewer"
) -> tuple[Any, str, dict[str, Any]]:
    """bob, given a role in the first org by hand (admin) with a key there, whom the identity
    provider then puts in a group the owner maps to that org with another role (viewer)."""
    org = d.orgs[0]
    bob = UserFactory(email="bob@acme.test")
    org_services.org_member_set(organization=org, user=bob, role=by_hand)
    _, raw = make_key(user=bob, tenant=d.tenant, org=org, name="bob's script")
    found = d.scim.get('/Users?filter=userName eq "bob@acme.test"').json()
    assert found["totalResults"] == 1, found
    bob_id = found["Resources"][0]["id"]
    r = d.scim.post("/Groups", {"displayName": "Auditors", "members": [{"value": bob_id}]})
    assert r.status_code == 201, r.content
    group = r.json()
    group_services.scim_group_map(
        group=ScimGroup.objects.get(public_id=group["id"]), organization=org, role=by_group, actor=d.owner
    )
    # In a mapped organization the groups decide the role.
    assert OrgMembership.objects.get(user=bob, organization=org).role == by_group
    return bob, raw, {"group": group, "bob_id": bob_id}


def assert_still_member(d: Directory, bob: Any, raw: str, role: str = "admin") -> None:
    assert OrgMembership.objects.get(user=bob, organization=d.orgs[0]).role == role
    r = APIClient().get(VALIDATE, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    if role == "admin":  # the key (created by an admin) has its owner's own role's reach again
        assert "members:write" in r.json()["permissions"]


def test_leaving_the_group_keeps_a_membership_added_by_hand(acme):
    bob, raw, ids = existing_member_in_viewer_group(acme)
    r = acme.scim.patch(
        f"/Groups/{ids['group']['id']}",
        patch_op({"op": "Remove", "path": f'members[value eq "{ids["bob_id"]}"]'}),
    )
    assert r.status_code == 200, r.content
    assert_still_member(acme, bob, raw)


def test_unmapping_the_group_keeps_a_membership_added_by_hand(acme):
    bob, raw, ids = existing_member_in_viewer_group(acme)
    group = ScimGroup.objects.get(public_id=ids["group"]["id"])
    group_services.scim_group_map(group=group, organization=None, role="", actor=acme.owner)
    assert_still_member(acme, bob, raw)


def test_deleting_the_group_keeps_a_membership_added_by_hand(acme):
    bob, raw, ids = existing_member_in_viewer_group(acme)
    assert acme.scim.delete(f"/Groups/{ids['group']['id']}").status_code == 204
    assert_still_member(acme, bob, raw)


def test_a_role_the_group_raised_ends_with_it(acme):
    bob, raw, ids = existing_member_in_viewer_group(acme, by_hand="member", by_group="admin")
    acme.scim.patch(
        f"/Groups/{ids['group']['id']}",
        patch_op({"op": "Remove", "path": "members", "value": [{"value": ids["bob_id"]}]}),
    )
    assert_still_member(acme, bob, raw, role="member")


def test_deprovisioning_and_reprovisioning_forget_the_hand_role(acme):
    bob, raw, ids = existing_member_in_viewer_group(acme)
    off = patch_op({"op": "Replace", "path": "active", "value": "False"})
    assert acme.scim.patch(f"/Users/{ids['bob_id']}", off).status_code == 200
    on = patch_op({"op": "replace", "value": {"active": True}})
    assert acme.scim.patch(f"/Users/{ids['bob_id']}", on).status_code == 200
    # Back through the group only (reprovisioning starts fresh), and the group's from now on.
    assert OrgMembership.objects.get(user=bob, organization=acme.orgs[0]).role == "viewer"
    acme.scim.delete(f"/Groups/{ids['group']['id']}")
    assert not OrgMembership.objects.filter(user=bob, organization=acme.orgs[0]).exists()


def test_a_membership_the_group_created_still_ends_with_it(acme):
    ada_id = acme.scim.post(
        "/Users", {"userName": "ada@acme.test", "emails": [{"value": "ada@acme.test", "type": "work"}]}
    ).json()["id"]
    r = acme.scim.post("/Groups", {"displayName": "Engineering", "members": [{"value": ada_id}]})
    group = ScimGroup.objects.get(public_id=r.json()["id"])
    group_services.scim_group_map(group=group, organization=acme.orgs[0], role="member", actor=acme.owner)
    assert OrgMembership.objects.filter(user__email="ada@acme.test", organization=acme.orgs[0]).exists()
    acme.scim.patch(f"/Groups/{group.public_id}", patch_op({"op": "remove", "path": f'members[value eq "{ada_id}"]'}))
    assert not OrgMembership.objects.filter(user__email="ada@acme.test", organization=acme.orgs[0]).exists()
