"""The header's Sign in and Create account links keep the way back (SPEC §8, §9).

Opening an invitation's link signed out leads to Sign in with ``?next=`` naming the
invitation; the card's own links keep it, the header's "Create account" (the most visible
button on the page) dropped it, so a newcomer who used it signed up and never came back to the
invitation. A ``next`` elsewhere than this site is not honoured by the pages either way."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

NEXT = "/invitations/abc123/"


def _header(html: str) -> str:
    found = re.search(r'<nav class="auth-links".*?</nav>', html, re.S)
    assert found is not None
    return found.group(0)


@pytest.mark.parametrize("page", ["/accounts/login/", "/accounts/signup/"])
def test_the_header_links_carry_next(page: str) -> None:
    html = Client().get(page, {"next": NEXT}).content.decode()
    header = _header(html)
    assert 'href="/accounts/login/?next=%2Finvitations%2Fabc123%2F"' in header, header
    assert 'href="/accounts/signup/?next=%2Finvitations%2Fabc123%2F"' in header, header


def test_without_next_the_links_are_plain() -> None:
    header = _header(Client().get("/accounts/login/").content.decode())
    assert 'href="/accounts/login/"' in header and 'href="/accounts/signup/"' in header


def test_next_is_escaped() -> None:
    header = _header(Client().get("/accounts/login/", {"next": '/x"><script>'}).content.decode())
    assert "<script>" not in header
    assert 'href="/accounts/signup/?next=%2Fx%22%3E%3Cscript%3E"' in header, header
