"""An org admin removes, in Tater (UI or API, not SCIM), a person a mapped group made a member
(SPEC §13: groups map to an org with a role; SPEC §2 "Removal kills"; docs/scim.md §5: a
membership someone added by hand is never removed by SCIM).

What a careful Okta or Entra ID admin expects (review s42, README "SCIM provisioning"):

- the removal stands: the identity provider's next, unrelated change (another group mapped,
  the person put in another group) does not silently add them back; they come back when the
  identity provider says so about that org (they leave and rejoin a group granting it, or are
  reprovisioned), or when an admin adds them again;
- an admin adding them again by hand makes that membership a hand-added one: the person
  leaving the group no longer removes it (nor revokes their keys there);
- the directory's User stays as the identity provider set it (``active: true``): it is the
  identity provider's assignment, not Tater's roles, and it must keep reaching the person so
  that the identity provider's later deprovisioning still ends their sessions and switches
  the account off. ``active: false`` here would make that PATCH a no-op, and a 404 would make
  the identity provider create the User again.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts.models import UserSession
from orgs import members
from orgs import services as org_services
from orgs.models import OrgMembership
from tests.factories import make_key
from tests.scim.conftest import patch_op, provision
from tests.scim.test_lifecycle import group_with, key_status, signed_in

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def ada(acme) -> dict[str, Any]:
    user_id = provision(acme, "ada@acme.test")["id"]
    eng = group_with(acme, "Eng", user_id, org=acme.orgs[0], role="member")
    user = User.objects.get(email="ada@acme.test")
    assert OrgMembership.objects.get(user=user, organization=acme.orgs[0]).role == "member"
    return {"id": user_id, "user": user, "eng": eng}


def leave(acme: Any, group: dict[str, Any], user_id: str) -> None:
    r = acme.scim.patch(
        f"/Groups/{group['id']}", patch_op({"op": "Remove", "path": "members", "value": [{"value": user_id}]})
    )
    assert r.status_code == 200, r.content


def test_an_unrelated_idp_change_does_not_undo_the_admins_removal(acme, ada):
    org1, org2 = acme.orgs
    members.member_remove(organization=org1, user=ada["user"], actor=acme.owner)
    group_with(acme, "Ops", ada["id"], org=org2, role="viewer")  # about another org
    assert OrgMembership.objects.filter(user=ada["user"], organization=org2).exists()
    assert not OrgMembership.objects.filter(user=ada["user"], organization=org1).exists()


def test_leaving_and_rejoining_the_group_brings_them_back(acme, ada):
    org1 = acme.orgs[0]
    members.member_remove(organization=org1, user=ada["user"], actor=acme.owner)
    leave(acme, ada["eng"], ada["id"])
    r = acme.scim.patch(
        f"/Groups/{ada['eng']['id']}", patch_op({"op": "add", "path": "members", "value": [{"value": ada["id"]}]})
    )
    assert r.status_code == 200, r.content
    assert OrgMembership.objects.get(user=ada["user"], organization=org1).role == "member"


def test_added_again_by_hand_it_is_a_hand_added_membership(acme, ada):
    org1 = acme.orgs[0]
    members.member_remove(organization=org1, user=ada["user"], actor=acme.owner)
    org_services.org_member_set(organization=org1, user=ada["user"], role="member", actor=acme.owner)
    _, raw = make_key(user=ada["user"], tenant=acme.tenant, org=org1, name="ada's key")
    leave(acme, ada["eng"], ada["id"])
    assert OrgMembership.objects.get(user=ada["user"], organization=org1).role == "member"
    assert key_status(raw)[0] == 200


def test_the_user_stays_active_and_the_idps_deprovisioning_still_reaches_them(acme, ada):
    org1 = acme.orgs[0]
    members.member_remove(organization=org1, user=ada["user"], actor=acme.owner)
    r = acme.scim.get(f"/Users/{ada['id']}")
    assert r.status_code == 200 and r.json()["active"] is True
    signed_in(ada["user"])
    r = acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "Replace", "path": "active", "value": "False"}))
    assert r.status_code == 200, r.content
    ada["user"].refresh_from_db()
    assert not ada["user"].is_active
    assert not UserSession.objects.filter(user=ada["user"]).exists()
