"""Review s45 (D): an invitation accepted at the moment its inviter is demoted (SPEC §1, §2, §7).

An invitation is worth what its inviter may still grant (docs/authorization.md). The accept
locked the invitation, then read the inviter's roles without waiting for a change of them in
flight: while an owner demoted the inviting admin to member (the role saved, the demotion about
to withdraw the invitations that admin can no longer grant), the invitee's accept read "admin",
locked the invitation the demotion needed, and queued behind the demotion's audit entry. The
two waited on each other: PostgreSQL aborted one, so either the demotion failed (a 500 for the
owner, the admin still admin) or the invitee's accept did. The accept now waits for the
inviter's roles before it takes the invitation (the order every role change takes them in): the
demotion goes through, withdraws the invitation (audited), and the accept is refused (410).
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from audit.models import AuditEvent
from orgs import members as member_services
from orgs import services as org_services
from orgs.members import InvitationError
from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory, make_tenant
from tests.races import while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def _setup() -> tuple[object, object, object, object, str]:
    tenant, owner, (org,) = make_tenant(name="Accept race", orgs=1)
    inviter = UserFactory(email="inviter@accept-race.test")
    org_services.org_member_set(organization=org, user=inviter, role="admin", actor=owner)
    links: list[str] = []
    member_services.member_add_by_email(
        organization=org, email="new.admin@invited.test", role="admin", actor=inviter, accept_url=links.append
    )
    invitee = UserFactory(email="new.admin@invited.test", verified=False)
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=True, primary=True)
    return org, owner, inviter, invitee, links[-1]


def test_an_accept_during_the_inviters_demotion_waits_and_is_refused() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    org, owner, inviter, invitee, token = _setup()

    errors = while_held(
        # paused with the inviter's role saved as member, the invitations not yet withdrawn
        lambda: org_services.org_member_set(organization=org, user=inviter, role="member", actor=owner),
        lambda: member_services.invitation_accept(token=token, user=invitee),
        pause_in=(org_services, "sent_invitations_recheck"),
        seconds=0.7,
    )

    assert [type(error) for error in errors] == [InvitationError], errors
    assert OrgMembership.objects.get(organization=org, user=inviter).role == "member"
    assert not OrgMembership.objects.filter(organization=org, user=invitee).exists()
    invitation = Invitation.objects.get(organization=org, email="new.admin@invited.test")
    assert invitation.revoked_at is not None and invitation.accepted_at is None
    (entry,) = AuditEvent.objects.filter(action="member.invitation_revoked", organization=org)
    assert entry.changes["reason"] == "inviter can no longer grant this role"
