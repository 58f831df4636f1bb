"""Review s45 (B): the invitations of someone who can no longer grant them (SPEC §2, §7, §9).

An invitation grants its role on its inviter's behalf, so once the inviter is demoted below that
role or removed, its link is refused ("whoever sent it can no longer grant this role"). But the
Members page and ``GET …/members/`` went on listing it as pending, "expires in 3 days", with
Resend and Revoke buttons, and nothing in the Activity Log said it had stopped working: an admin
told the invitee it was on its way; the invitee was turned away. Now the demotion or removal
withdraws the invitations that person can no longer grant, each audited
(``member.invitation_revoked``, reason ``inviter can no longer grant this role``), so the
pending list only holds links that work. Those the person may still grant stay pending.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress

from audit.models import AuditEvent
from orgs import members as member_services
from orgs import services
from orgs.models import OrgMembership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _invite(world: dict[str, Any], email: str, role: str, inviter: Any) -> str:
    links: list[str] = []

    def accept_url(token: str) -> str:
        links.append(f"/invitations/{token}/")
        return links[-1]

    member_services.member_add_by_email(
        organization=world["org1"], email=email, role=role, actor=inviter, accept_url=accept_url
    )
    return links[-1]


def _pending(api: Any, world: dict[str, Any]) -> dict[str, str]:
    r = api.get(f"/api/v1/organizations/{world['org1'].public_id}/members/", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    assert r.json()["pending_invitations_total"] == len(r.json()["pending_invitations"])
    return {row["email"]: row["role"] for row in r.json()["pending_invitations"]}


def _withdrawn(email: str) -> list[dict[str, Any]]:
    return [
        event.changes
        for event in AuditEvent.objects.filter(action="member.invitation_revoked")
        if event.changes.get("email") == email
    ]


def test_a_demoted_inviters_invitation_leaves_the_pending_list_audited(api, client, world):
    link = _invite(world, "new.admin@invited.test", "admin", world["admin"])
    assert _pending(api, world) == {"new.admin@invited.test": "admin"}

    services.org_member_set(organization=world["org1"], user=world["admin"], role="member", actor=world["owner"])

    assert _pending(api, world) == {}
    (changes,) = _withdrawn("new.admin@invited.test")
    assert changes["reason"] == "inviter can no longer grant this role"
    client.force_login(world["owner"])
    page = client.get(f"/members/?organizationId={world['org1'].public_id}")
    assert b"new.admin@invited.test" not in page.content
    # And the link stays refused, as before.
    invitee = UserFactory(email="new.admin@invited.test", verified=False)
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=True, primary=True)
    client.force_login(invitee)
    assert client.post(link).status_code == 410
    assert not OrgMembership.objects.filter(user=invitee).exists()


def test_a_removed_inviters_invitations_are_withdrawn_too(api, world):
    _invite(world, "v@invited.test", "viewer", world["admin"])
    _invite(world, "kept@invited.test", "member", world["owner"])
    services.org_member_set(organization=world["org1"], user=world["admin"], role=None, actor=world["owner"])
    assert _pending(api, world) == {"kept@invited.test": "member"}
    assert len(_withdrawn("v@invited.test")) == 1


def test_invitations_the_inviter_may_still_grant_stay_pending(api, world):
    tenant_admin = UserFactory()
    services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role="admin", actor=world["owner"])
    services.org_member_set(organization=world["org1"], user=tenant_admin, role="admin", actor=world["owner"])
    _invite(world, "a@invited.test", "admin", tenant_admin)
    # Loses the tenant role, stays admin of org1: may still grant admin there.
    services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role=None, actor=world["owner"])
    assert _pending(api, world) == {"a@invited.test": "admin"}
    assert _withdrawn("a@invited.test") == []
    # Then demoted to member of org1: no longer.
    services.org_member_set(organization=world["org1"], user=tenant_admin, role="member", actor=world["owner"])
    assert _pending(api, world) == {}
    assert len(_withdrawn("a@invited.test")) == 1


def test_one_change_that_drops_the_tenant_role_and_makes_them_org_admin_keeps_them(api, world):
    # PATCH {"tenant_role": null, "role": "admin"}: in the end they may still grant admin in org1.
    tenant_admin = UserFactory()
    services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role="admin", actor=world["owner"])
    _invite(world, "b@invited.test", "admin", tenant_admin)
    url = f"/api/v1/organizations/{world['org1'].public_id}/members/{tenant_admin.public_id}/"
    api.force_login(world["owner"])
    r = api.patch(url, {"tenant_role": None, "role": "admin"}, format="json")
    api.logout()
    assert r.status_code == 200, r.content
    assert (r.json()["role"], r.json()["tenant_role"]) == ("admin", None)
    assert _pending(api, world) == {"b@invited.test": "admin"}
    assert _withdrawn("b@invited.test") == []
