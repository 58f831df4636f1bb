"""Review s38: "Accept" pressed twice (a double click) or the invitation email's link followed
again after accepting answered the 410 page "This invitation has already been used or was
replaced by a newer one" to the very person who had accepted it, as if they had not joined.
For the person who accepted it (and still reaches the org) the link now says they already
joined and opens that organization; for anyone else it is the same 410 as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import members as member_services
from orgs.models import OrgMembership
from tests.factories import UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db


def _invite(org: Any, actor: Any, email: str) -> str:
    links: list[str] = []
    member_services.member_add_by_email(
        organization=org, email=email, role="member", actor=actor, accept_url=lambda t: links.append(t) or t
    )
    return f"/invitations/{links[0]}/"


def test_accept_pressed_twice_says_you_already_joined() -> None:
    _, owner, (org, other) = make_tenant(name="Acme", orgs=2)
    url = _invite(org, owner, "new@acme.test")
    invitee = UserFactory(email="new@acme.test")
    add_member(other, "viewer", user=invitee)  # their session may be on another org
    browser = Client()
    browser.force_login(invitee)
    assert browser.post(url).status_code == 302
    browser.post("/orgs/switch/", {"org": other.public_id})

    for again in (browser.post(url, follow=True), browser.get(url, follow=True)):
        assert again.status_code == 200, again.content.decode()[:1500]
        assert again.redirect_chain[-1][0] == "/"
        assert "You already joined Acme Org 1" in " ".join(str(m) for m in again.context["messages"])
        assert browser.session["current_org_id"] == org.public_id
    assert OrgMembership.objects.filter(user=invitee, organization=org).count() == 1


def test_someone_else_or_a_removed_member_still_gets_the_410() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    url = _invite(org, owner, "new@acme.test")
    invitee = UserFactory(email="new@acme.test")
    browser = Client()
    browser.force_login(invitee)
    assert browser.post(url).status_code == 302
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 410
    member_services.member_remove(organization=org, user=invitee, actor=owner)
    assert browser.get(url).status_code == 410
    assert browser.post(url).status_code == 410
    assert not OrgMembership.objects.filter(user=invitee, organization=org).exists()
