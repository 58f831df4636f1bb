"""Review s43: on a phone (390 px) the dashboard of someone with a long address (a new
account's own sign-up and sign-in entries name it) scrolled sideways: an entry of "Recent
activity" would not wrap the address, so its time ("8 minutes ago") was pushed past the card
and the screen's edge. Long words in an entry now wrap, and nothing scrolls sideways (SPEC §9)."""

from __future__ import annotations

from typing import Any

from orgs import services as org_services
from tests.factories import UserFactory
from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_recent_activity_wraps_a_long_address_on_a_phone(open_as: Any) -> None:
    person = UserFactory(email="first.middle.lastname.1796626017@subsidiary.example.org")
    tenant = org_services.tenant_create(name="Long Ltd", owner=person, plan="free")
    org_services.org_create(tenant=tenant, name="Default", actor=person)
    page = open_as(person)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    assert page.locator("ul.activity li").count() >= 1
    assert page.evaluate(product.WIDEST) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
