"""SPEC §9 (Members and roles), §12 (operations at scale): the members page listed everyone
who reaches the org and every pending invitation on one page. Its queries did not grow, but
its HTML did: a tenant of thousands of provisioned people got a page of thousands of rows,
each with its role forms. The page now shows one page of members and one page of pending
invitations, each with Previous/Next links that keep the org the page shows and the other
list's page; a role form on a later page answers on that page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orgs import members as member_services
from tests.factories import UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db

MAX_ROWS = 50  # a careful product's page: tens of rows, never the whole directory


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _grow(org: Any, first: int, count: int) -> None:
    for n in range(first, first + count):
        add_member(org, "member", UserFactory(email=f"m{n:03d}@acme.test"))


def _invite(org: Any, owner: Any, first: int, count: int) -> None:
    for n in range(first, first + count):
        member_services.member_add_by_email(
            organization=org, email=f"i{n:03d}@invited.test", role="member", actor=owner, accept_url=lambda t: t
        )


def _nav(html: str, label: str) -> str:
    found = re.search(rf'<nav[^>]*aria-label="{label}"[^>]*>(.*?)</nav>', html, re.S)
    return found.group(1) if found else ""


def _link(html: str, label: str, rel: str) -> str | None:
    found = re.search(rf'<a[^>]*href="([^"]+)"[^>]*rel="{rel}"', _nav(html, label))
    return found.group(1).replace("&amp;", "&") if found else None


def _member_emails(html: str) -> list[str]:
    table = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'data-label="Member">([^<]+)<', table)


def _invited(html: str) -> list[str]:
    """The pending invitations listed (each address once: its buttons name it again)."""
    return re.findall(r"<li>\s*<span>(i\d{3}@invited\.test) ", html)


def test_the_members_page_shows_one_page_and_costs_the_same_queries_for_3_or_9() -> None:
    _, owner, (org,) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"))
    browser = _browser(owner)
    browser.get("/members/")  # warm the session
    _grow(org, 0, 3)
    _invite(org, owner, 0, 3)
    with CaptureQueriesContext(connection) as few:
        assert browser.get("/members/").status_code == 200
    _grow(org, 3, 6)
    _invite(org, owner, 3, 6)
    with CaptureQueriesContext(connection) as many:
        r = browser.get("/members/")
    assert len(many) == len(few), (len(few), len(many))
    assert len(_member_emails(r.content.decode())) == 10
    assert len(_invited(r.content.decode())) == 9


def test_thousands_of_members_and_invitations_are_read_page_by_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"))
    _grow(org, 0, 64)
    _invite(org, owner, 0, 60)
    browser = _browser(owner)

    seen: list[str] = []
    url: str | None = "/members/"
    pages = 0
    while url is not None:
        r = browser.get(url)
        assert r.status_code == 200
        html = r.content.decode()
        rows = _member_emails(html)
        assert 0 < len(rows) <= MAX_ROWS
        assert len(_invited(html)) <= MAX_ROWS
        seen += rows
        url = _link(html, "Member pages", "next")
        pages += 1
        assert pages < 10
    assert pages >= 2
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == 65

    # Back again with Previous.
    previous = _link(html, "Member pages", "prev")
    assert previous is not None
    assert browser.get(previous).status_code == 200

    invited: list[str] = []
    url = "/members/"
    pages = 0
    while url is not None:
        html = browser.get(url).content.decode()
        invited += _invited(html)
        url = _link(html, "Invitation pages", "next")
        pages += 1
        assert pages < 10
    assert pages >= 2
    assert sorted(invited) == [f"i{n:03d}@invited.test" for n in range(60)]


def test_paging_links_keep_the_org_shown_and_the_other_list_page() -> None:
    _, owner, (org1, org2) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"), orgs=2)
    _grow(org2, 0, 64)
    _invite(org2, owner, 0, 60)
    browser = _browser(owner)
    browser.get("/members/")  # the session's org is org1
    html = browser.get(f"/members/?organizationId={org2.public_id}").content.decode()
    assert "m000@acme.test" in html
    following = _link(html, "Member pages", "next")
    assert following is not None
    assert parse_qs(urlsplit(following).query)["organizationId"] == [org2.public_id]
    html = browser.get(following).content.decode()
    assert "m063@acme.test" in html  # org2's second page, not org1's
    invitations_next = _link(html, "Invitation pages", "next")
    assert invitations_next is not None
    query = parse_qs(urlsplit(invitations_next).query)
    assert query["organizationId"] == [org2.public_id]
    # Turning the invitations' page keeps the members' page shown.
    html = browser.get(invitations_next).content.decode()
    assert "m063@acme.test" in html


def test_a_refused_role_change_on_a_later_page_answers_on_that_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"))
    _grow(org, 0, 64)
    browser = _browser(owner)
    html = browser.get("/members/").content.decode()
    second = browser.get(_link(html, "Member pages", "next")).content.decode()
    action = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]*>\s*<label[^>]*>Organization role of m063', second
    )
    assert action is not None
    url = action.group(1).replace("&amp;", "&")
    user_pk = url.split("/")[2]
    r = browser.post(url, {f"m{user_pk}-role": "emperor"})
    assert r.status_code == 400
    html = r.content.decode()
    assert "m063@acme.test" in _member_emails(html)
    assert "Choose one of" in html


def test_a_page_number_out_of_range_shows_a_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"))
    _grow(org, 0, 3)
    browser = _browser(owner)
    for query in ("?page=999", "?page=abc", "?page=-1", "?invitations_page=x"):
        r = browser.get(f"/members/{query}")
        assert r.status_code == 200, query
        assert _member_emails(r.content.decode()), query


def test_a_role_changed_on_a_later_page_comes_back_to_that_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"))
    _grow(org, 0, 64)
    browser = _browser(owner)
    html = browser.get("/members/").content.decode()
    second = browser.get(_link(html, "Member pages", "next")).content.decode()
    action = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]*>\s*<label[^>]*>Organization role of m063', second
    )
    assert action is not None
    url = action.group(1).replace("&amp;", "&")
    r = browser.post(url, {f"m{url.split('/')[2]}-role": "admin"})
    assert r.status_code == 302
    back = browser.get(r["Location"]).content.decode()
    assert "m063@acme.test" in _member_emails(back)
