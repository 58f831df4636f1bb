"""SPEC §9 (Members and roles): a demotion asks first. Asked from page 2 of a long member
list, the confirmation's Cancel and its confirmed change both came back to page 1, where the
person just acted on is not listed (review B s41 noticed it)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import UserFactory, make_tenant
from tests.ui.test_review_s41_members_page_paging import _browser, _grow, _link, _member_emails

pytestmark = pytest.mark.django_db


def _role_form_of(html: str, email: str) -> str:
    action = re.search(
        rf'<form method="post" action="([^"]+)"[^>]*>\s*<input[^>]*>\s*<label[^>]*>Organization role of {email}', html
    )
    assert action is not None
    return action.group(1).replace("&amp;", "&")


def test_a_demotion_confirmed_on_a_later_page_comes_back_to_that_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme", owner=UserFactory(email="owner@acme.test"))
    _grow(org, 0, 64)
    browser = _browser(owner)
    second = browser.get(_link(browser.get("/members/").content.decode(), "Member pages", "next")).content.decode()
    url = _role_form_of(second, "m063@acme.test")
    field = f"m{url.split('/')[2]}-role"
    asked = browser.post(url, {field: "viewer"})
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "from member to viewer" in page
    cancel = re.search(r'<a href="([^"]+)">Cancel</a>', page)
    assert cancel is not None
    assert parse_qs(urlsplit(cancel.group(1).replace("&amp;", "&")).query).get("page") == ["2"]
    assert "m063@acme.test" in _member_emails(browser.get(cancel.group(1).replace("&amp;", "&")).content.decode())
    confirm = re.search(r'<form method="post" action="([^"]+)" class="form">', page)
    assert confirm is not None
    done = browser.post(
        confirm.group(1).replace("&amp;", "&"), {field: "viewer", field.split("-")[0] + "-confirm": "on"}
    )
    assert done.status_code == 302
    back = browser.get(done["Location"]).content.decode()
    assert "m063@acme.test" in _member_emails(back)
    assert "is now viewer" in back
