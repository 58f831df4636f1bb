"""Review s45: on a phone (390 px) the "Revoke N keys?" page of a bulk action scrolled
sideways to about 760 px when one of the ticked keys had a long one-word name (e.g.
"rmm-eu-west-" and a build id): the list of keys about to be revoked would not break the
name, so the badge saying each key's status sat off screen. The list now wraps a long name
(SPEC §2, §9)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.factories import make_key
from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_bulk_revoke_confirmation_wraps_a_long_key_name(open_as: Any, world: dict[str, Any]) -> None:
    name = "rmm-eu-west-" + "0123456789abcdef" * 5
    make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=name)
    page = open_as(world["owner"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("apikey_list"))
    page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name="Revoke…").click()
    page.get_by_role("heading", name="Revoke 1 key?").wait_for()
    assert page.locator(".key-list-plain .badge").is_visible()
    assert product.overflow(page) == 0, page.evaluate(product.WIDEST)
