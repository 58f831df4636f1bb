"""SPEC §9 (the Activity Log page) and §7 (cursor paging): the page had "Older entries" and
"Newest entries" but nothing one page back: someone three pages deep who went one page too far
started again from the newest entry and paged down again. Each page from the third on now links
"Newer entries" (rel="prev"): the very page it came from, the filters kept; on the second,
"Newest entries" is that page."""

from __future__ import annotations

import re

import pytest

from orgs import activity_views
from orgs import services as org_services

pytestmark = pytest.mark.django_db
PAGE = "/activity/"


def entries(html: str) -> list[str]:
    """The names each listed rename went to, in the page's order."""
    return re.findall(r"Renamed (\d+)\b", html)


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', html)
    return found[1].replace("&amp;", "&") if found else None


def test_newer_entries_goes_back_exactly_one_page(client, world, monkeypatch) -> None:
    monkeypatch.setattr(activity_views, "PAGE_SIZE", 5)
    for i in range(12):
        org_services.org_rename(organization=world["org1"], name=f"Renamed {i}", actor=world["owner"])
    client.force_login(world["admin"])
    query = "?action=organization.updated"

    first = client.get(PAGE + query).content.decode()
    second = client.get(PAGE + link(first, "next")).content.decode()
    third = client.get(PAGE + link(second, "next")).content.decode()
    assert link(first, "prev") is None
    assert link(third, "next") is None

    back_to_second = client.get(PAGE + link(third, "prev")).content.decode()
    assert entries(back_to_second) == entries(second) != []
    assert "Newer entries" in third and "Newer entries" not in second  # Newest entries is that page
    back_to_first = link(second, "prev")
    assert "cursor=" not in back_to_first and "action=organization.updated" in back_to_first
    assert entries(client.get(PAGE + back_to_first).content.decode()) == entries(first)
