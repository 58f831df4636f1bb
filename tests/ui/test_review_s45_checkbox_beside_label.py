"""Review s45: on the sign-in page the "Remember Me" checkbox sat alone on a line below its
label, like a text field with no box, and on the single sign-on settings page "Require SSO"
and "Single sign-on enabled" did the same, their help text reading as the label of the next
field. A checkbox now sits beside its label on the sign-in, sign-up and account forms, as on
every other form of the app (SPEC §8, §9)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def beside(page: Any, label: str) -> bool:
    """The checkbox and its label's text share a line (the box is left of the text)."""
    box = page.get_by_label(label).bounding_box()
    text = page.locator("label", has_text=label).first.bounding_box()
    same_line = box["y"] < text["y"] + text["height"] and text["y"] < box["y"] + box["height"]
    return same_line and box["x"] + box["width"] <= text["x"] + 1


def test_remember_me_sits_beside_its_label(browser: Any, live_server: Any) -> None:
    for width in product.WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
        page = context.new_page()
        page.goto(reverse("account_login"))
        assert beside(page, "Remember Me"), width
        context.close()


def test_sso_switches_sit_beside_their_labels(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("accounts_sso_settings"))
    assert beside(page, "Require SSO")
    assert beside(page, "Single sign-on enabled")
