"""Review s46: on the Generate API key page, choosing another key type (Standard, Agent,
Public) after typing a name, an expiry, an allowlist and a rate limit threw all of it away:
the type choices were plain links to a fresh page. Switching the type now keeps everything
typed that the new type can use, with or without JavaScript, and Enter in a field still
generates the key rather than switching the type (SPEC §9: create with name, type,
permissions, expiry, IP allowlist)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import ApiKey
from tests.browser import chromium, needs_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_as(browser: Any, live_server: Any) -> Iterator[Any]:
    contexts = []

    def make(user: Any, *, javascript: bool) -> Any:
        client = Client()
        client.force_login(user)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, base_url=live_server.url, java_script_enabled=javascript
        )
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def choose_type(page: Any, label: str) -> None:
    page.locator(".type-picker").get_by_text(label, exact=True).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_switching_the_key_type_keeps_what_was_typed(open_as: Any, world: dict[str, Any], javascript: bool) -> None:
    page = open_as(world["owner"], javascript=javascript)
    page.goto(reverse("apikey_create"))
    page.get_by_role("textbox", name="Name").fill("Collector on site A")
    page.get_by_label("Expires").select_option("30")
    page.get_by_label("IP allowlist").fill("10.0.0.0/8\n192.168.1.0/24")
    page.get_by_label("Rate limit for this key").fill("60/min")

    choose_type(page, "Agent")
    assert page.get_by_text("Upload scans", exact=True).is_visible()  # the agent form is shown
    assert page.get_by_role("textbox", name="Name").input_value() == "Collector on site A"
    assert page.get_by_label("Expires").input_value() == "30"
    assert page.get_by_label("IP allowlist").input_value() == "10.0.0.0/8\n192.168.1.0/24"
    assert page.get_by_label("Rate limit for this key").input_value() == "60/min"
    assert page.locator(".form-errors").count() == 0  # switching is not a failed submit

    choose_type(page, "Public")
    assert page.locator("select[name=perm_scans]").input_value() == "read"  # public's own defaults
    choose_type(page, "Standard")
    assert page.get_by_role("textbox", name="Name").input_value() == "Collector on site A"
    assert page.get_by_label("IP allowlist").input_value() == "10.0.0.0/8\n192.168.1.0/24"

    choose_type(page, "Agent")
    page.get_by_role("textbox", name="Name").press("Enter")  # Enter generates, it does not switch
    page.wait_for_selector("#api-key-value")
    assert re.fullmatch(r"ak_[0-9a-f]{32}", page.locator("#api-key-value").inner_text())
    key = ApiKey.objects.get(name="Collector on site A")
    assert key.type == "agent" and key.rate_limit == "60/min"
    assert key.allowed_ips == ["10.0.0.0/8", "192.168.1.0/24"]
