"""Review s43: someone opening an invitation's link while signed out landed on the plain
"Sign in" page, and from there on "Create your account" promising "You get your own tenant with
a first organization; invite your team afterwards": nothing said that this was the way to the
invitation, nor with which address. Both pages now say that signing in (or up) with the address
the invitation was sent to leads back to it, as GitHub's and Sentry's invitation sign-ins do
(SPEC §8: an invitation is accepted by a signed-in user holding that verified address; §9)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

NOTE = "Sign in or sign up with the address the invitation was sent to"


def test_the_invitation_link_explains_the_sign_in() -> None:
    browser = Client()
    first = browser.get("/invitations/some-token/", follow=True)
    assert first.redirect_chain[-1][0].startswith("/accounts/login/?next=/invitations/some-token/")
    assert NOTE in first.content.decode()
    signup = browser.get("/accounts/signup/?next=%2Finvitations%2Fsome-token%2F")
    assert NOTE in signup.content.decode()


def test_a_plain_sign_in_says_nothing_of_invitations() -> None:
    assert NOTE not in Client().get("/accounts/login/?next=/keys/").content.decode()
    assert NOTE not in Client().get("/accounts/signup/").content.decode()
