"""Issue 20's remaining flows in a real browser (Playwright + Debian's Chromium): watching a
rotation (rotate in the UI, call with the old secret, reload: "Old secret last used"), the
usage chart with its ranges at 390 px without sideways scrolling, and the 2FA challenge
after a wrong code (wait, then the right code works). Screenshots go to
artifacts/screenshots/5x-*.png."""

from __future__ import annotations

import re
import time
from typing import Any

import requests
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from apikeys.models import ApiKey
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory
from tests.ui import test_browser_product as product
from tests.ui.test_browser_product import WIDEST, overflow, shot

# The product tests' browser (one Chromium per module), signed-in pages and skip marks.
browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark

VALIDATE = "/api/v1/auth/validate"


def _key_url(key: ApiKey, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("apikey_detail", args=[key.public_id]) + (f"?{query}" if query else "")


def test_rotation_can_be_watched(open_as: Any, world: dict[str, Any], live_server: Any) -> None:
    key, old_secret = world["owner_key"], world["owner_raw"]
    old_prefix = key.display_prefix
    page = open_as(world["owner"])
    page.goto(_key_url(key))
    page.get_by_role("link", name="Rotate").click()
    page.get_by_label("1 hour").check()
    page.get_by_role("button", name="Rotate key").click()
    new_secret = page.locator("#api-key-value").inner_text()
    assert re.fullmatch(r"tater_[0-9a-f]{32}", new_secret) and new_secret != old_secret

    page.goto(_key_url(key))
    panel = page.locator("section.rotation-watch")
    assert panel.is_visible()
    assert f"{old_prefix}…" in panel.inner_text()
    assert re.search(r"works until .+\(in (59 min|1 h)\)", panel.inner_text())
    assert page.get_by_test_id("old-secret-last-used").inner_text() == "Never since rotation"

    # An integration still calls with the old secret: the page shows it, the new one unused.
    validate = f"{live_server.url}{VALIDATE}"
    assert requests.get(validate, headers={"X-API-Key": old_secret}, timeout=30).status_code == 200
    page.reload()
    old_used = page.get_by_test_id("old-secret-last-used").inner_text()
    assert "Never" not in old_used and ("now" in old_used or "ago" in old_used), old_used
    assert page.get_by_test_id("new-secret-last-used").inner_text() == "Not yet"
    shot(page, "50-key-rotation-watch")
    page.set_viewport_size({"width": 390, "height": 844})
    assert overflow(page) <= 0, page.evaluate(WIDEST)
    shot(page, "51-key-rotation-watch-mobile")


def test_usage_chart_ranges_at_390_px(open_as: Any, world: dict[str, Any], live_server: Any) -> None:
    key, secret = world["owner_key"], world["owner_raw"]
    validate = f"{live_server.url}{VALIDATE}"
    for ip_header in ("203.0.113.7", "198.51.100.2"):
        requests.get(validate, headers={"X-API-Key": secret, "X-Forwarded-For": ip_header}, timeout=30)
    requests.get(f"{live_server.url}/api/v1/keys/key-nope/", headers={"X-API-Key": secret}, timeout=30)
    page = open_as(world["owner"])
    page.goto(_key_url(key, range="24h"))
    assert page.get_by_test_id("usage-requests").inner_text() == "3"
    assert page.get_by_test_id("usage-errors").inner_text() == "1"
    wide = page.locator("svg.usage-chart__svg--wide")
    assert wide.is_visible() and not page.locator("svg.usage-chart__svg--narrow").is_visible()
    card = page.locator("section.usage-chart").bounding_box()
    assert wide.bounding_box()["width"] > card["width"] * 0.85  # fills the card, no fixed 720 px
    shot(page, "52-usage-chart-24h")
    page.set_viewport_size({"width": 390, "height": 844})
    for range_key, label in (("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days")):
        page.goto(_key_url(key, range=range_key))
        assert page.get_by_role("link", name=label).get_attribute("aria-current") == "true"
        narrow = page.locator("svg.usage-chart__svg--narrow")
        assert narrow.is_visible() and not page.locator("svg.usage-chart__svg--wide").is_visible()
        assert narrow.bounding_box()["width"] <= 390
        # The axis labels stay readable (rendered at least 10 px tall).
        tick = narrow.locator("text.usage-chart__tick").last
        assert tick.bounding_box()["height"] >= 10, tick.bounding_box()
        ticks = narrow.locator("text.usage-chart__tick").all_text_contents()
        assert all(re.fullmatch(r"\d+", t) for t in ticks), ticks
        assert overflow(page) <= 0, page.evaluate(WIDEST)
        shot(page, f"53-usage-chart-{range_key}-mobile")
    # The range links are a control that works at this width.
    page.get_by_role("link", name="24 hours").click()
    expect(page).to_have_url(re.compile(r"range=24h"))
    # A usage limit set on the edit form shows on the key page.
    page.goto(reverse("apikey_edit", args=[key.public_id]))
    page.get_by_label("Usage limit", exact=True).fill("1000")
    page.get_by_label("Refill the usage limit").select_option("daily")
    shot(page, "56-key-edit-usage-limit-mobile")
    page.get_by_role("button", name="Save changes").click()
    limit = page.locator("section", has=page.get_by_role("heading", name="Usage limit"))
    assert re.search(r"Remaining\s+1000", limit.inner_text()), limit.inner_text()
    assert overflow(page) <= 0, page.evaluate(WIDEST)


def test_two_factor_wrong_then_right_code(browser: Any, live_server: Any, db: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the enrolment's code step may be reused here
    device.refresh_from_db()
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(reverse("account_login"))
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary[type=submit]")
        page.wait_for_url(re.compile(r"/accounts/2fa/challenge/"))
        right = totp_code(device)
        page.fill("input[name=code]", "000000" if right != "000000" else "111111")
        page.get_by_role("button", name="Verify").click()
        expect(page.locator("form", has=page.locator("input[name=code]"))).to_contain_text(
            "not valid or was already used"
        )  # the answer's form
        # At once the right code: throttled, and the page says to wait (not "wrong code").
        page.fill("input[name=code]", totp_code(device))
        page.get_by_role("button", name="Verify").click()
        expect(page.locator("form", has=page.locator("input[name=code]"))).to_contain_text(
            re.compile("Too many attempts")
        )
        message = page.locator("form", has=page.locator("input[name=code]")).inner_text()
        assert re.search(r"Too many attempts: wait \d+ seconds? and try the code again", message), message
        assert "check the time on your phone" not in message
        shot(page, "54-2fa-wait-message")
        time.sleep(2.2)
        page.fill("input[name=code]", totp_code(device))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(lambda url: "/accounts/2fa/" not in url)
        assert overflow(page) <= 0
        # The security page: sessions in plain words (browser and system), one date format.
        page.goto(reverse("accounts_security"))
        sessions = page.locator("section", has=page.get_by_role("heading", name="Sessions"))
        assert re.search(r"Chrome(?: \(headless\))? \d+ on Linux", sessions.inner_text()), sessions.inner_text()
        assert "(this session)" in sessions.inner_text()
        assert overflow(page) <= 0, page.evaluate(WIDEST)
        shot(page, "55-security-sessions-mobile")
    finally:
        context.close()
