"""Review s45 (D): the invitations of an inviter who is suspended or deleted (SPEC §1, §7, §9, §13).

An invitation is worth what its inviter may still grant (docs/authorization.md), so once the
inviter's account is deactivated in the Django admin, or their directory deprovisions them
(SCIM ``active: false``), the link is refused (410). Yet the Members page and
``GET …/members/`` went on listing it as pending, "expires in 3 days", counted in
``pending_invitations_total``: an admin told the invitee it was on its way; the invitee was
turned away. A deactivation suspends (the account's keys work again on its return), so the
invitations are kept, not withdrawn: they are listed apart, as held ("whoever sent it can no
longer grant this role"), never counted as pending, and pending again on the inviter's return.
A deletion is final: the invitations are withdrawn, audited.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from accounts import services as account_services
from audit.models import AuditEvent
from orgs import members as member_services
from orgs import services
from orgs.models import OrgMembership
from tests.factories import UserFactory
from tests.scim.conftest import Directory, make_directory, patch_op, provision

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db: Any) -> Directory:
    return make_directory("Acme", "acme.test")


def _invite(organization: Any, email: str, role: str, inviter: Any) -> str:
    links: list[str] = []

    def accept_url(token: str) -> str:
        links.append(f"/invitations/{token}/")
        return links[-1]

    member_services.member_add_by_email(
        organization=organization, email=email, role=role, actor=inviter, accept_url=accept_url
    )
    return links[-1]


def _listed(api: Any, organization: Any, owner: Any) -> tuple[dict[str, str], dict[str, str], int, int]:
    api.force_login(owner)
    r = api.get(f"/api/v1/organizations/{organization.public_id}/members/")
    api.logout()
    assert r.status_code == 200, r.content
    body = r.json()
    pending = {row["email"]: row["role"] for row in body["pending_invitations"]}
    held = {row["email"]: row["role"] for row in body["held_invitations"]}
    return pending, held, body["pending_invitations_total"], body["held_invitations_total"]


def _withdrawn(email: str) -> list[dict[str, Any]]:
    return [
        event.changes
        for event in AuditEvent.objects.filter(action="member.invitation_revoked")
        if event.changes.get("email") == email
    ]


def _invitee(email: str) -> Any:
    invitee = UserFactory(email=email, verified=False)
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=True, primary=True)
    return invitee


def _set_active(user: Any, active: bool) -> None:
    # What the admin's user form does when an operator ticks or unticks "Active".
    account_services.user_write_ahead(user=user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    account_services.user_saved_by_operator(
        user=user, created=False, changes={"is_active": {"from": not active, "to": active}}
    )


def test_an_inviter_deactivated_in_the_admin_leaves_their_invitations_held_not_pending(api, client, world):
    org, owner = world["org1"], world["owner"]
    link = _invite(org, "held@invited.test", "member", world["admin"])
    assert _listed(api, org, owner) == ({"held@invited.test": "member"}, {}, 1, 0)

    _set_active(world["admin"], False)

    assert _listed(api, org, owner) == ({}, {"held@invited.test": "member"}, 0, 1)
    client.force_login(owner)
    page = client.get(f"/members/?organizationId={org.public_id}").content.decode()
    assert "Pending invitations" not in page
    assert "held@invited.test" in page
    assert "can no longer grant this role" in page
    assert _withdrawn("held@invited.test") == []  # kept for their return
    invitee = _invitee("held@invited.test")
    client.force_login(invitee)
    assert client.post(link).status_code == 410

    # The inviter is back: the invitation is pending again, and its link works.
    _set_active(world["admin"], True)
    assert _listed(api, org, owner) == ({"held@invited.test": "member"}, {}, 1, 0)
    client.force_login(invitee)
    assert client.post(link).status_code == 302
    assert OrgMembership.objects.get(user=invitee, organization=org).role == "member"


def test_a_held_invitation_resent_by_a_current_admin_is_pending_again(api, world):
    org, owner = world["org1"], world["owner"]
    _invite(org, "again@invited.test", "viewer", world["admin"])
    _set_active(world["admin"], False)
    pending, held, *_ = _listed(api, org, owner)
    assert (pending, held) == ({}, {"again@invited.test": "viewer"})
    invitation = org.invitations.get(email="again@invited.test")
    member_services.invitation_resend(
        organization=org, invitation_id=invitation.public_id, actor=owner, accept_url=lambda token: token
    )
    assert _listed(api, org, owner) == ({"again@invited.test": "viewer"}, {}, 1, 0)


def test_an_inviter_deprovisioned_by_scim_leaves_their_invitations_held(api, acme):
    org = acme.orgs[0]
    resource = provision(acme, "bob@acme.test")
    bob = get_user_model().objects.get(email="bob@acme.test")
    services.org_member_set(organization=org, user=bob, role="admin", actor=acme.owner)
    _invite(org, "guest@invited.test", "member", bob)
    assert _listed(api, org, acme.owner) == ({"guest@invited.test": "member"}, {}, 1, 0)

    r = acme.scim.patch(f"/Users/{resource['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert r.status_code == 200, r.content

    assert _listed(api, org, acme.owner) == ({}, {"guest@invited.test": "member"}, 0, 1)
    assert _withdrawn("guest@invited.test") == []  # SCIM keeps them for the person's return

    # Deleting the User is final: what the deprovisioning kept is withdrawn, audited.
    assert acme.scim.delete(f"/Users/{resource['id']}").status_code == 204
    assert _listed(api, org, acme.owner) == ({}, {}, 0, 0)
    (changes,) = _withdrawn("guest@invited.test")
    assert changes["reason"] == "inviter can no longer grant this role"


def test_an_inviter_deleted_in_the_admin_has_their_invitations_withdrawn(api, world):
    org, owner = world["org1"], world["owner"]
    _invite(org, "gone@invited.test", "member", world["admin"])
    _set_active(world["admin"], False)
    account_services.user_deleted_by_operator(user=world["admin"])
    world["admin"].delete()

    assert _listed(api, org, owner) == ({}, {}, 0, 0)
    (changes,) = _withdrawn("gone@invited.test")
    assert changes["reason"] == "inviter can no longer grant this role"
