"""Review s39: a page showing an org other than the session's (opened with ?organizationId=,
e.g. the answer to a form acted in another tab's org) keeps that org on every in-app link
(docs/ui.md). The empty states' buttons did not: "Show all keys", "Show all scans", "Show all
activity" and "Generate your first key" were plain links, so pressing them showed the
session's org: another org's keys, scans or activity, or a key form for the wrong org."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


def _hrefs_of(html: str, label: str) -> list[str]:
    hrefs = []
    for chunk in html.split("<a ")[1:]:
        tag, _, rest = chunk.partition(">")
        if rest.startswith(label) and 'href="' in tag:
            hrefs.append(tag.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&"))
    return hrefs


@pytest.fixture
def in_other_org() -> tuple[Client, Any, Any]:
    tenant, owner, (first, second) = make_tenant(name="Acme", orgs=2)
    make_key(user=owner, tenant=tenant, org=first, name="first-org-key")
    client = Client()
    client.force_login(owner)
    client.post("/orgs/switch/", {"org": first.public_id})  # the session's org is the first
    return client, first, second


@pytest.mark.parametrize(
    ("page", "label", "target"),
    [
        ("/keys/?q=nothing-like-it", "Show all keys", "/keys/"),
        ("/keys/", "Generate your first key", "/keys/new/"),
        ("/scans/?severity=critical", "Show all scans", "/scans/"),
        ("/activity/?channel=scim", "Show all activity", "/activity/"),
    ],
)
def test_empty_state_buttons_stay_in_the_org_shown(
    in_other_org: tuple[Client, Any, Any], page: str, label: str, target: str
) -> None:
    client, _, second = in_other_org
    joiner = "&" if "?" in page else "?"
    response = client.get(f"{page}{joiner}organizationId={second.public_id}")
    assert response.status_code == 200
    hrefs = _hrefs_of(response.content.decode(), label)
    assert hrefs == [f"{target}?organizationId={second.public_id}"], hrefs
    # And following it shows the second org's (empty) page, not the first org's keys.
    assert "first-org-key" not in client.get(hrefs[0]).content.decode()


def test_in_the_sessions_own_org_the_buttons_stay_plain(in_other_org: tuple[Client, Any, Any]) -> None:
    client, _, _ = in_other_org
    html = client.get("/keys/?q=nothing-like-it").content.decode()
    assert _hrefs_of(html, "Show all keys") == ["/keys/"]
