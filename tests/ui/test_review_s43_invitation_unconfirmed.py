"""Review s43: someone invited by email who signs up from the invitation's link lands back on it
signed in with that very address, not yet confirmed, and was told "sign in with that address,
verified, to accept it": they are signed in with it, so the page read as refusing them for
nothing. It now says what is missing: confirming the address (the link in the confirmation
email, which the Email addresses page sends again), then opening the invitation again (SPEC §8:
an invitation is accepted only by a signed-in user holding that verified address)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from orgs import members as member_services
from orgs.models import OrgMembership
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def _invite(org: Any, actor: Any, email: str) -> str:
    links: list[str] = []
    member_services.member_add_by_email(
        organization=org, email=email, role="member", actor=actor, accept_url=lambda t: links.append(t) or t
    )
    return f"/invitations/{links[0]}/"


def test_unconfirmed_address_is_told_to_confirm_it() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    url = _invite(org, owner, "new@acme.test")
    invitee = UserFactory(email="new@acme.test", verified=False)
    EmailAddress.objects.create(user=invitee, email="new@acme.test", verified=False, primary=True)
    browser = Client()
    browser.force_login(invitee)

    page = browser.get(url)
    assert page.status_code == 403
    text = page.content.decode()
    assert "Confirm new@acme.test first" in text, text
    assert 'href="/accounts/email/"' in text
    assert "sign in with that address" not in text
    assert browser.get("/accounts/email/").status_code == 200
    assert browser.post(url).status_code == 403
    assert not OrgMembership.objects.filter(user=invitee, organization=org).exists()


def test_someone_signed_in_with_another_address_is_still_told_to_sign_in_with_it() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    url = _invite(org, owner, "new@acme.test")
    browser = Client()
    browser.force_login(UserFactory(email="other@acme.test"))
    page = browser.get(url)
    assert page.status_code == 403
    assert "sign in with that address, verified, to accept it" in page.content.decode()
