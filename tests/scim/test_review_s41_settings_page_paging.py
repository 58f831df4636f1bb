"""SPEC §13 (SCIM groups map to an org with a role), §12 (operations at scale), §9 (tenant
settings): Tenant settings → SCIM provisioning listed every group the identity provider
pushed, each with a mapping form that offers every organization: a directory of thousands of
groups made one page of thousands of forms. The page now shows a page of groups with
Previous/Next links (keeping the org shown and the search), a search by group name, and a
mapping saved from a later page comes back to that page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scim.models import ScimGroup
from tests.scim.conftest import Directory

pytestmark = pytest.mark.django_db
MAX_ROWS = 50
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _push_groups(acme: Directory, first: int, count: int) -> None:
    for n in range(first, first + count):
        r = acme.scim.post("/Groups", {"schemas": [GROUP], "displayName": f"Team {n:03d}"})
        assert r.status_code == 201, r.content


def _groups(html: str) -> list[str]:
    return re.findall(r"<td>(Team \d{3})", html)


def _link(html: str, rel: str) -> str | None:
    nav = re.search(r'<nav[^>]*aria-label="Group pages"[^>]*>(.*?)</nav>', html, re.S)
    found = re.search(rf'<a[^>]*href="([^"]+)"[^>]*rel="{rel}"', nav.group(1)) if nav else None
    return found.group(1).replace("&amp;", "&") if found else None


def _browser(acme: Directory) -> Client:
    browser = Client()
    browser.force_login(acme.owner)
    return browser


def test_the_groups_are_read_page_by_page(acme: Directory) -> None:
    _push_groups(acme, 0, 64)
    browser = _browser(acme)
    browser.get("/settings/tenant/scim/")  # the session's org: the first
    url: str | None = f"/settings/tenant/scim/?organizationId={acme.orgs[1].public_id}"
    seen: list[str] = []
    pages = 0
    while url is not None:
        r = browser.get(url)
        assert r.status_code == 200
        html = r.content.decode()
        rows = _groups(html)
        assert 0 < len(rows) <= MAX_ROWS
        seen += rows
        url = _link(html, "next")
        if url is not None:
            assert parse_qs(urlsplit(url).query)["organizationId"] == [acme.orgs[1].public_id]
        pages += 1
        assert pages < 10
    assert pages >= 2
    assert seen == [f"Team {n:03d}" for n in range(64)]
    assert _link(html, "prev") is not None


def test_the_page_costs_the_same_queries_for_3_or_9_groups(acme: Directory) -> None:
    browser = _browser(acme)
    browser.get("/settings/tenant/scim/")
    _push_groups(acme, 0, 3)
    with CaptureQueriesContext(connection) as few:
        browser.get("/settings/tenant/scim/")
    _push_groups(acme, 3, 6)
    with CaptureQueriesContext(connection) as many:
        html = browser.get("/settings/tenant/scim/").content.decode()
    assert len(many) == len(few)
    assert len(_groups(html)) == 9


def test_a_group_is_found_by_name_and_the_search_is_kept_across_pages(acme: Directory) -> None:
    _push_groups(acme, 0, 64)
    browser = _browser(acme)
    html = browser.get("/settings/tenant/scim/", {"q": "Team 06"}).content.decode()
    assert _groups(html) == [f"Team {n:03d}" for n in range(60, 64)]
    html = browser.get("/settings/tenant/scim/", {"q": "team 0"}).content.decode()
    following = _link(html, "next")
    assert following is not None and parse_qs(urlsplit(following).query)["q"] == ["team 0"]
    assert _groups(browser.get(following).content.decode()) == [f"Team {n:03d}" for n in range(50, 64)]


def test_a_mapping_saved_from_a_later_page_comes_back_to_it(acme: Directory) -> None:
    _push_groups(acme, 0, 64)
    browser = _browser(acme)
    second = browser.get(_link(browser.get("/settings/tenant/scim/").content.decode(), "next")).content.decode()
    group = ScimGroup.objects.get(tenant=acme.tenant, display_name="Team 063")
    action = re.search(rf'action="(/settings/tenant/scim/groups/{group.public_id}/map/[^"]*)"', second)
    assert action is not None
    r = browser.post(
        action.group(1).replace("&amp;", "&"),
        {f"{group.public_id}-organization": acme.orgs[0].public_id, f"{group.public_id}-role": "viewer"},
    )
    assert r.status_code == 302
    back = browser.get(r["Location"]).content.decode()
    assert "Team 063" in _groups(back)
    group.refresh_from_db()
    assert group.organization_id == acme.orgs[0].pk


def test_a_page_number_out_of_range_shows_a_page(acme: Directory) -> None:
    _push_groups(acme, 0, 3)
    browser = _browser(acme)
    for page in ("999", "abc", "-1"):
        r = browser.get("/settings/tenant/scim/", {"page": page})
        assert r.status_code == 200 and len(_groups(r.content.decode())) == 3, page
