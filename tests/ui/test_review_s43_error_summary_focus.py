"""Review s43: a form sent back with errors (the key create form with "Limited" and nothing
chosen, say) left the keyboard focus at the top of the page: someone working by keyboard alone
tabbed again through the header and the whole side navigation to find out what was wrong, and a
screen reader announced nothing. The error summary, made focusable for that purpose
(tabindex="-1", each problem linking to its field), now takes the focus when the page loads, as
GitHub's and GOV.UK's forms do, so Tab goes from it to the fields in error (SPEC §9)."""

from __future__ import annotations

from typing import Any

from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_the_error_summary_takes_the_focus(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto("/keys/new/")
    assert page.evaluate("document.activeElement === document.body")  # a clean form: nothing moves
    page.get_by_role("textbox", name="Name").fill("RMM nightly sync")
    page.get_by_role("radio", name="Limited").check()
    page.get_by_role("button", name="Generate key").press("Enter")
    page.wait_for_selector("#form-errors")
    assert page.evaluate("document.activeElement.id") == "form-errors"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_preset"
    assert page.get_by_role("textbox", name="Name").input_value() == "RMM nightly sync"
    assert page.csp_errors == []
