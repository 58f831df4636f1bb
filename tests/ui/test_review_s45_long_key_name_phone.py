"""Review s45: on a phone (390 px) a key named with one long word (a host or pipeline name
such as "rmm-eu-west" followed by a build id, up to the 100 characters the form takes) made
its show-once page, its detail page and its edit, rotate, revoke and deactivate pages scroll
sideways to about 1,200 px: the heading and the breadcrumb would not break the name, so the
page's buttons and the warning sat off screen. Headings and breadcrumbs now wrap a long
word, and nothing scrolls sideways (SPEC §2, §9)."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from apikeys.models import ApiKey
from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_a_long_key_name_does_not_widen_the_key_pages(open_as: Any, world: dict[str, Any]) -> None:
    name = "rmm-eu-west-" + "0123456789abcdef" * 5
    page = open_as(world["owner"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("apikey_create"))
    page.locator("#id_name").fill(name)
    page.get_by_role("button", name="Generate key").click()
    assert re.search(r"[0-9a-f]{32}", page.locator("#api-key-value").inner_text())
    assert product.overflow(page) == 0, ("show-once", page.evaluate(product.WIDEST))
    key = ApiKey.objects.get(name=name)
    for url_name in ("apikey_detail", "apikey_edit", "apikey_rotate", "apikey_revoke", "apikey_deactivate"):
        page.goto(reverse(url_name, args=[key.public_id]))
        assert page.get_by_role("heading", level=1).is_visible()
        assert product.overflow(page) == 0, (url_name, page.evaluate(product.WIDEST))
