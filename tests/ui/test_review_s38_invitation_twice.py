"""Review s38: "Revoke" pressed twice (a double click, a reload answering "resend the form") or
pressed on a members page opened before the invitee accepted, answered the 404 page "Invitation
not found" although the invitation is this org's and the first press had worked. Now such a
press goes back to the members page saying the invitation was already revoked or accepted, and
changes nothing; another org's invitation id is still a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs import members as member_services
from orgs.models import Invitation
from tests.factories import UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db


def _invite(org: Any, actor: Any, email: str) -> tuple[Invitation, str]:
    links: list[str] = []
    result = member_services.member_add_by_email(
        organization=org, email=email, role="member", actor=actor, accept_url=lambda t: links.append(t) or t
    )
    assert result.result == "invited"
    return result.invitation, links[0]


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_revoke_pressed_twice_ends_on_the_members_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    invitation, _ = _invite(org, owner, "new@acme.test")
    browser = _browser(owner)
    url = f"/members/invitations/{invitation.public_id}/revoke/"
    assert browser.post(url).status_code == 302
    entries = AuditEvent.objects.count()

    again = browser.post(url, follow=True)
    assert again.status_code == 200, again.content.decode()[:1000]
    assert again.redirect_chain[-1][0].startswith("/members/")
    assert "new@acme.test was already revoked" in _messages(again)
    assert AuditEvent.objects.count() == entries

    # Resending it from the same old page says so too (nothing is sent).
    resent = browser.post(f"/members/invitations/{invitation.public_id}/resend/", follow=True)
    assert resent.status_code == 200 and "already revoked" in _messages(resent)


def test_revoke_or_resend_after_the_invitee_accepted_says_so() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    invitation, token = _invite(org, owner, "new@acme.test")
    invitee = UserFactory(email="new@acme.test")
    member_services.invitation_accept(token=token, user=invitee)
    browser = _browser(owner)
    for action in ("revoke", "resend"):
        answer = browser.post(f"/members/invitations/{invitation.public_id}/{action}/", follow=True)
        assert answer.status_code == 200
        assert "new@acme.test already accepted the invitation" in _messages(answer)


def test_another_orgs_invitation_is_still_not_found() -> None:
    tenant, owner, (org, other) = make_tenant(name="Acme", orgs=2)
    invitation, _ = _invite(other, owner, "new@acme.test")
    member_services.invitation_revoke(organization=other, invitation_id=invitation.public_id, actor=owner)
    admin = add_member(org, "admin")
    for action in ("revoke", "resend"):
        answer = _browser(admin).post(f"/members/invitations/{invitation.public_id}/{action}/")
        assert answer.status_code == 404
    foreign_owner = make_tenant(name="Globex")[1]
    assert _browser(foreign_owner).post(f"/members/invitations/{invitation.public_id}/revoke/").status_code == 404
