"""Review s43 (F): a person a tenant's directory deprovisioned (``active: false``) and an admin
then adds back by hand, while the directory still has them deprovisioned.

Deprovisioning ends the person's roles in the tenant and keeps their keys there, unrevoked and
refused, for the identity provider's reprovisioning; that reprovisioning revives only the keys
its groups reach again and revokes the others, "so a role an admin grants again later revives
none" (docs/scim.md §4). An admin adding the person back by hand before that (members API or
page, an invitation accepted, a tenant role in the admin) gave them a role again, and the keys
the directory's deprovisioning stopped simply worked again: a deprovisioned person's old
credentials came back by a side door. Expectations (SPEC §2 "removing the owner ... kills the
key", §7, §13): the hand re-add revokes the kept keys (``api_key.revoked``, reason ``owner
removed``, in the re-add's channel); keys made after it work; a later reprovisioning starts
fresh and revives none of the old keys.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from audit.models import AuditEvent
from orgs import members
from orgs import services as org_services
from scim.models import ScimUser
from tests.factories import UserFactory, add_member, make_key
from tests.scim.conftest import Directory, patch_op, provision
from tests.scim.test_lifecycle import deactivate, group_with, key_status

pytestmark = pytest.mark.django_db
User = get_user_model()


def _kept(tokens: list[str]) -> Any:
    def accept_url(token: str) -> str:
        tokens.append(token)
        return f"https://tater.example/invitations/{token}/"

    return accept_url


def _hand_add(d: Directory, user: Any, how: str) -> None:
    """The tenant owner gives ``user`` a role in the tenant again, by hand."""
    org = d.orgs[0]
    if how == "api":
        api = APIClient()
        api.force_login(d.owner)
        r = api.post(
            f"/api/v1/organizations/{org.public_id}/members/", {"email": user.email, "role": "member"}, format="json"
        )
        assert r.status_code == 201, r.content
    elif how == "invitation":
        # Sent to an address nobody has proved yet; the person adds and verifies it, then accepts.
        tokens: list[str] = []
        members.member_add_by_email(
            organization=org, email="bob.alt@freemail.test", role="member", actor=d.owner, accept_url=_kept(tokens)
        )
        EmailAddress.objects.create(user=user, email="bob.alt@freemail.test", verified=True)
        members.invitation_accept(token=tokens[0], user=user)
    else:  # the admin's tenant role (orgs.admin calls the service)
        org_services.tenant_member_set(tenant=d.tenant, user=user, role="admin", actor=d.owner)


def _revoked_as_owner_removed(key: Any, by: Any) -> None:
    entry = AuditEvent.objects.filter(action="api_key.revoked", target_id=key.public_id).get()
    assert entry.changes["reason"] == "owner removed"
    assert entry.actor_user_id == by.pk  # who re-added the person (or the person, accepting)


@pytest.mark.parametrize("how", ["api", "invitation", "tenant_role"])
def test_a_guest_added_back_by_hand_while_deprovisioned_has_no_old_key_back(acme: Directory, how: str) -> None:
    bob = add_member(acme.orgs[0], "member", UserFactory(email="bob@freemail.test"))
    old, old_raw = make_key(user=bob, tenant=acme.tenant, org=acme.orgs[0], name="bob's old key")
    bob_id = ScimUser.objects.get(tenant=acme.tenant, user=bob).public_id
    assert deactivate(acme, bob_id).status_code == 200
    bob.refresh_from_db()
    assert bob.is_active  # a guest's account is their own
    assert key_status(old_raw) == (401, "UNAUTHORIZED")

    _hand_add(acme, bob, how)

    assert key_status(old_raw) == (401, "KEY_REVOKED"), "a key the directory's deprovisioning stopped came back"
    _revoked_as_owner_removed(old, bob if how == "invitation" else acme.owner)
    if how == "api":
        assert AuditEvent.objects.filter(action="api_key.revoked", target_id=old.public_id).get().channel == "api"
    assert ScimUser.objects.get(public_id=bob_id).suspended_roles == {}
    _, new_raw = make_key(user=bob, tenant=acme.tenant, org=acme.orgs[0], name="bob's new key")
    assert key_status(new_raw)[0] == 200

    # The identity provider assigns bob again later: a fresh start, the new key keeps working.
    r = acme.scim.patch(f"/Users/{bob_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert r.status_code == 200, r.content
    entry = AuditEvent.objects.filter(action="scim_user.reactivated").latest("pk")
    assert "previous_roles_not_restored" not in entry.changes["effects"]
    assert key_status(new_raw)[0] == 200
    assert key_status(old_raw) == (401, "KEY_REVOKED")


def test_a_member_of_the_verified_domain_added_back_by_hand_has_no_old_key_back(acme: Directory) -> None:
    """sam@acme.test: deprovisioning switched the account off; the admin adds sam back by hand,
    then the identity provider reprovisions sam into another org: the old key, bound to the
    org the admin gave back, used to work again."""
    sam_id = provision(acme, "sam@acme.test")["id"]
    group_with(acme, "Ops", sam_id, org=acme.orgs[1], role="viewer")
    sam = User.objects.get(email="sam@acme.test")
    org_services.org_member_set(organization=acme.orgs[0], user=sam, role="member", actor=acme.owner)
    old, old_raw = make_key(user=sam, tenant=acme.tenant, org=acme.orgs[0], name="sam's old key")
    assert deactivate(acme, sam_id).status_code == 200
    sam.refresh_from_db()
    assert not sam.is_active

    _hand_add(acme, sam, "api")
    assert key_status(old_raw) == (401, "KEY_REVOKED")
    _revoked_as_owner_removed(old, acme.owner)

    r = acme.scim.patch(f"/Users/{sam_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert r.status_code == 200, r.content
    sam.refresh_from_db()
    assert sam.is_active
    assert key_status(old_raw) == (401, "KEY_REVOKED")
    _, new_raw = make_key(user=sam, tenant=acme.tenant, org=acme.orgs[0], name="sam's new key")
    assert key_status(new_raw)[0] == 200
