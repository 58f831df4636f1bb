"""Found by an attacker review of memberships and invitations (2026-12-04); expectations
from SPEC §1 (roles), §2 (a grant is evaluated against the grantor's *current* role:
"demoting or removing the owner narrows or kills the key"), §7 (audit) and §8
(invitations), and docs/authorization.md ("nobody grants a role above their own"):

- an invitation outlived its inviter's authority: an org admin invites an address they
  control as ``admin``, is removed (or demoted), and the link still lets that address in
  as an admin. An invitation is a grant made on the inviter's behalf: like a key, it is
  worth no more than its inviter may still grant when it is used;
- a removed member rejoined through a stale pending invitation: an invitation sent while
  their address was unverified stayed pending after they were added directly, so after
  being removed they accepted it and were back (with the invitation's role).

Guards (pass; nothing covered them): a resend by a current admin vouches for the
invitation again; member writes through a key stop when its owner is demoted; member
changes through a key are audited with channel ``api`` and the key's id; another
tenant's user ids answer PATCH/DELETE exactly like unknown ids.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from orgs.access import SESSION_ORG_KEY
from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")


def members_url(org: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def member_url(org: Any, user: Any) -> str:
    return f"{members_url(org)}{user.public_id}/"


def _invite(api: Any, capture: Any, org: Any, email: str, role: str) -> str:
    """POST an invitation as the api client's caller; the accept link from the email."""
    with capture(execute=True):
        r = api.post(members_url(org), {"email": email, "role": role}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["result"] == "invited", r.content
    return LINK.search(mail.outbox[-1].body).group(1)


# --- An invitation is worth no more than its inviter may still grant ----------------------


@pytest.mark.parametrize("fate", ["removed", "demoted"])
def test_invitation_outliving_its_inviters_authority_admits_nobody(
    api: Any, client: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any, fate: str
) -> None:
    """An org admin, about to be removed (or demoted), invites an address they control as
    admin; after losing the role, the link still makes that address an org admin."""
    org1, admin = world["org1"], world["admin"]
    api.force_login(admin)
    link = _invite(api, django_capture_on_commit_callbacks, org1, "alt@attacker.test", "admin")
    api.force_login(world["owner"])
    if fate == "removed":
        assert api.delete(member_url(org1, admin)).status_code == 204
    else:
        assert api.patch(member_url(org1, admin), {"role": "member"}, format="json").status_code == 200
    alt = UserFactory(email="alt@attacker.test")
    client.force_login(alt)
    r = client.post(link)
    assert r.status_code in (403, 410), r.status_code
    assert not OrgMembership.objects.filter(user=alt).exists()


def test_invitation_resent_by_a_current_admin_is_vouched_for_again(
    api: Any, client: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """Guard for the fix above: once a current admin resends it, the invitation is theirs.
    (Since review s45 the removal of its inviter withdraws it, audited: a current admin then
    invites the address again, and that link works.)"""
    org1, admin = world["org1"], world["admin"]
    api.force_login(admin)
    _invite(api, django_capture_on_commit_callbacks, org1, "colleague@example.com", "member")
    api.force_login(world["owner"])
    assert api.delete(member_url(org1, admin)).status_code == 204
    invitation = Invitation.objects.get(email="colleague@example.com")
    assert invitation.revoked_at is not None  # withdrawn with its inviter's role
    client.force_login(world["owner"])
    session = client.session
    session[SESSION_ORG_KEY] = org1.public_id
    session.save()
    r = client.post(reverse("invitation_resend", args=[invitation.public_id]))
    assert r.status_code == 302  # "was already revoked: nothing changed"
    _invite(api, django_capture_on_commit_callbacks, org1, "colleague@example.com", "member")
    # A pending invitation resent by a current admin is theirs (the owner's, here).
    resent = Invitation.objects.get(email="colleague@example.com", revoked_at__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("invitation_resend", args=[resent.public_id]))
    assert r.status_code == 200, r.status_code
    link = LINK.search(mail.outbox[-1].body).group(1)
    colleague = UserFactory(email="colleague@example.com")
    client.force_login(colleague)
    assert client.post(link).status_code == 302
    assert OrgMembership.objects.get(user=colleague, organization=org1).role == "member"


# --- Removal ends every way back in -------------------------------------------------------


def test_removed_member_cannot_rejoin_through_a_stale_invitation(
    api: Any, client: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """Invited while their address was unverified, then added directly once verified, then
    removed: the first invitation was still pending and let them back in."""
    org1 = world["org1"]
    bob = UserFactory(email="bob@example.com", verified=False)
    api.force_login(world["admin"])
    link = _invite(api, django_capture_on_commit_callbacks, org1, "bob@example.com", "member")
    EmailAddress.objects.create(user=bob, email=bob.email, verified=True, primary=True)
    r = api.post(members_url(org1), {"email": "bob@example.com", "role": "viewer"}, format="json")
    assert (r.status_code, r.json()["result"]) == (201, "added")
    assert api.delete(member_url(org1, bob)).status_code == 204
    client.force_login(bob)
    r = client.post(link)
    assert r.status_code in (403, 410), r.status_code
    assert not OrgMembership.objects.filter(user=bob).exists()
    # The removal withdrew it: no longer listed as pending either.
    assert api.get(members_url(org1)).json()["pending_invitations"] == []


# --- Guards -------------------------------------------------------------------------------


def test_key_of_a_demoted_admin_loses_member_writes_at_once(api: Any, world: dict[str, Any]) -> None:
    """Guard: a key holding members:write keeps it only while its owner is an admin (the
    verified-key cache is warmed first, so a stale principal would show)."""
    org1, admin, viewer = world["org1"], world["admin"], world["viewer"]
    _, raw = make_key(user=admin, tenant=world["tenant"], org=org1, scopes=["members:write"])
    assert api.get(members_url(org1), HTTP_X_API_KEY=raw).status_code == 200
    api.force_login(world["owner"])
    assert api.patch(member_url(org1, admin), {"role": "member"}, format="json").status_code == 200
    api.logout()
    r = api.patch(member_url(org1, viewer), {"role": "member"}, format="json", HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
    r = api.post(members_url(org1), {"email": "new@example.com", "role": "admin"}, format="json", HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
    assert OrgMembership.objects.get(user=viewer, organization=org1).role == "viewer"
    assert not Invitation.objects.exists()


def test_member_changes_through_a_key_are_audited_with_the_key(api: Any, world: dict[str, Any]) -> None:
    """Guard (SPEC §7): who (the key id with channel api), target, org, what changed."""
    org1, viewer = world["org1"], world["viewer"]
    r = api.patch(member_url(org1, viewer), {"role": "member"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200
    assert api.delete(member_url(org1, viewer), HTTP_X_API_KEY=world["owner_raw"]).status_code == 204
    for action in ("member.role_changed", "member.removed"):
        event = AuditEvent.objects.get(action=action, target_id=viewer.public_id)
        assert (event.channel, event.api_key_id) == ("api", world["owner_key"].public_id), action
        assert (event.actor_user_id, event.organization_id) == (world["owner"].pk, org1.pk), action


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_another_tenants_user_id_answers_like_an_unknown_id(api: Any, world: dict[str, Any], method: str) -> None:
    """Guard (SPEC §1): no existence oracle on member writes."""
    url = members_url(world["org1"])
    answers = []
    for user_id in (world["other_owner"].public_id, "usr-00000000-0000-4000-8000-000000000000"):
        r = getattr(api, method)(
            f"{url}{user_id}/", {"role": "viewer"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
        )
        body = r.json()
        answers.append((r.status_code, body["error"], body["message"]))
    assert answers[0] == answers[1] == (404, "NOT_FOUND", "Not found")
