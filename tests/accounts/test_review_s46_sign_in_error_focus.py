"""Review s46: after a failed sign-in the page came back with "The email address and/or
password you specified are not correct." at the top, but the keyboard focus stayed at the
start of the page and a screen reader said nothing: someone working by keyboard alone tabbed
through the header before finding out why they were still on the sign-in page. The sign-up
page had no summary at all. Both now put the focus on the error (role="alert"), as the key
forms do; sign-up's summary links each problem to its field (SPEC §8, §9)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from tests.browser import chromium, needs_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()


FOCUSED = "document.activeElement"


def test_a_failed_sign_in_focuses_and_announces_the_error(page: Any, world: dict[str, Any]) -> None:
    page.goto(reverse("account_login"))
    assert page.evaluate(f"{FOCUSED} === document.body")  # a fresh form: nothing moves
    page.get_by_label("Email").fill(world["owner"].email)
    page.get_by_label("Password").fill("not-the-password-" + "7" * 4)
    page.get_by_label("Password").press("Enter")
    page.wait_for_load_state()
    focused = page.evaluate(f"({{role: {FOCUSED}.getAttribute('role'), text: {FOCUSED}.innerText}})")
    assert focused["role"] == "alert", focused
    assert "not correct" in focused["text"]
    page.keyboard.press("Tab")  # on from the message to the form, the address kept
    assert page.evaluate(f"{FOCUSED}.id") == "id_login"
    assert page.get_by_label("Email").input_value() == world["owner"].email


def test_a_failed_sign_up_focuses_a_summary_linking_to_the_fields(page: Any, db: Any) -> None:
    page.goto(reverse("account_signup"))
    page.get_by_label("Email").fill("not-an-address")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_load_state()
    assert page.evaluate(f"{FOCUSED}.getAttribute('role')") == "alert"
    assert "valid email address" in page.evaluate(f"{FOCUSED}.innerText")
    page.keyboard.press("Tab")
    assert page.evaluate(f"{FOCUSED}.getAttribute('href')") == "#id_email"
    page.keyboard.press("Enter")
    assert page.evaluate(f"{FOCUSED}.id") == "id_email"
