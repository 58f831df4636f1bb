"""The fixed flows in a real browser (Playwright + Debian's Chromium, one browser for the
module): the key form by type with every error at once, expiry badges and filters, bulk
revoke, invitations (copy link, re-invite, resend), demotion confirmation, the org menu,
the Activity Log's filters, the outbox; and every main page at 390 and 1280 px, as owner and
as viewer, without horizontal overflow. Screenshots go to artifacts/screenshots/3x-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from apikeys.models import ApiKey
from tests.browser import chromium, needs_chromium

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = (1280, 390)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    needs_chromium,
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_as(browser: Any, live_server: Any) -> Iterator[Any]:
    """A signed-in page for a user (the session cookie of a forced login: the sign-in form
    itself is covered by test_browser.py)."""
    contexts = []

    def make(user: Any) -> Any:
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.csp_errors = []  # type: ignore[attr-defined]
        page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


# The outermost elements reaching past the viewport's right edge (for the failure message).
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
            && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))"""


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


# --- 1. The key form ------------------------------------------------------------------------------


def test_key_form_by_type_with_every_error_at_once(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("apikey_create"))
    # Agent: only scan upload is offered.
    page.get_by_role("button", name=re.compile("^Agent")).click()
    expect(page.get_by_role("button", name=re.compile("^Agent"))).to_have_attribute("aria-current", "true")
    assert page.locator("input[name=preset]").count() == 0 and page.locator("select[name^=perm_]").count() == 0
    assert page.get_by_text("Upload scans", exact=True).is_visible()
    shot(page, "30-create-agent-key")
    # Blank name, two bad allowlist lines, a bad rate limit: all reported together.
    page.get_by_label("IP allowlist").fill("10.0.0.0/8\nnot-an-ip\n192.168.1.300")
    page.get_by_label("Rate limit for this key").fill("lots")
    page.get_by_role("button", name="Generate key").click()
    summary = page.locator(".form-errors")
    assert summary.is_visible()
    assert summary.locator("li").count() == 4
    assert page.locator("#id_allowed_ips_error li").count() == 2
    assert page.locator("#id_name").get_attribute("aria-invalid") == "true"
    shot(page, "31-create-key-errors")
    page.locator("#id_name").fill("Collector on site A")
    page.get_by_label("IP allowlist").fill("10.0.0.0/8")
    page.get_by_label("Rate limit for this key").fill("60/min")
    page.get_by_role("button", name="Generate key").click()
    assert re.fullmatch(r"ak_[0-9a-f]{32}", page.locator("#api-key-value").inner_text())
    assert "/api/scans/upload" in page.locator("#snip-curl").inner_text()
    key = ApiKey.objects.get(name="Collector on site A")
    assert key.scopes == ["scans:write"] and key.rate_limit == "60/min"
    # Public: read-only selects for scans and the organization only.
    page.goto(reverse("apikey_create") + "?type=public")
    assert page.locator("select[name^=perm_]").evaluate_all("els => els.map(e => e.name)") == [
        "perm_organizations",
        "perm_scans",
    ]
    assert page.locator("select[name=perm_scans] option").evaluate_all("els => els.map(e => e.value)") == ["", "read"]
    assert page.locator("input[value=unbound]").count() == 0
    # Standard with JavaScript: the per-resource table shows only for "Limited".
    page.goto(reverse("apikey_create"))
    assert page.locator("#limited-permissions").is_hidden()
    page.locator("input[name=preset][value=limited]").check()
    assert page.locator("#limited-permissions").is_visible()
    shot(page, "32-create-standard-limited")
    assert page.csp_errors == []


# --- 2 and 3. Expiry, search and bulk actions -------------------------------------------------------


def test_expiry_card_filters_and_bulk_revoke(open_as: Any, world: dict[str, Any]) -> None:
    from tests.factories import make_key

    now = timezone.now()
    for name, days in (("Backup job", 3), ("SIEM feed", 5), ("Reporting", 90)):
        make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            name=name,
            expires_at=now + timedelta(days=days),
        )
    page = open_as(world["owner"])
    page.goto("/")
    page.get_by_role("link", name=re.compile("Expiring within 7 days")).click()
    expect(page).to_have_url(re.compile(r"expiring=7"))
    titles = page.locator("td.stack-title a")
    expect(titles).to_have_count(2)  # waits for the page the click opens
    names = titles.all_inner_texts()
    assert sorted(names) == ["Backup job", "SIEM feed"]
    assert page.locator(".badge-expiry-soon").count() == 2
    shot(page, "33-keys-expiring")
    # Tick both, revoke them: a confirmation first, then a report per key.
    for name in names:
        page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name="Revoke…").click()
    expect(page.get_by_role("heading", name="Revoke 2 keys?")).to_be_visible()
    shot(page, "34-bulk-revoke-confirm")
    page.get_by_role("button", name="Revoke 2 keys").click()
    expect(page).to_have_url(re.compile(r"expiring=7"))  # back on the list it was asked from
    expect(page.get_by_text(re.compile("2 keys revoked"))).to_be_visible()
    assert ApiKey.objects.filter(name__in=names, revoked_at__isnull=False).count() == 2
    # Search and sort keep working together (the expiry filter is still set: clear it).
    page.get_by_label("Expiry", exact=True).select_option("")
    page.get_by_role("searchbox", name="Search").fill("report")
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]q=report"))
    # all_inner_texts() does not wait: on a busy machine it read the page still loading ([]).
    expect(page.locator("td.stack-title a")).to_have_text(["Reporting"])
    assert page.csp_errors == []


# --- 4. Members and invitations ------------------------------------------------------------------------


@override_settings(EMAIL_BACKEND="outbox.backends.OutboxMailBackend")
def test_invitations_copy_link_reinvite_resend_and_demotion(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("members"))
    page.locator("#id_invite-email").fill("new.hire@example.com")
    page.locator("#id_invite-role").select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").inner_text()
    assert re.fullmatch(r"http://[^/]+/invitations/[\w-]+/", link)
    page.get_by_role("button", name="Copy link").click()
    page.wait_for_function("document.querySelector('#copy-link-status').textContent.trim() === 'Copied to clipboard'")
    assert page.evaluate("navigator.clipboard.readText()") == link
    shot(page, "35-invitation-link")
    # The same address again: the page asks instead of replacing the pending invitation.
    page.get_by_role("link", name="Back to Members").click()
    page.locator("#id_invite-email").fill("New.Hire@example.com")
    page.locator("#id_invite-role").select_option("member")
    page.get_by_role("button", name="Invite").click()
    prompt = page.get_by_text("already has a pending invitation as viewer")
    prompt.wait_for()  # the answer to the click may still be loading on a busy machine
    assert prompt.is_visible()
    shot(page, "36-reinvite-prompt")
    page.get_by_role("button", name="Resend it as viewer").click()
    resent = page.locator("#invitation-link").inner_text()
    assert resent != link
    # The tenant owner reads the mail in the outbox.
    page.goto(reverse("tenant_outbox"))
    assert page.get_by_role("link", name=re.compile("You are invited")).count() == 2
    page.get_by_role("link", name=re.compile("You are invited")).first.click()
    assert resent in page.locator("#message-body").inner_text()
    shot(page, "37-outbox-message")
    # Demoting an admin asks first.
    page.goto(reverse("members"))
    admin = world["admin"]
    page.get_by_label(f"Organization role of {admin.email}").select_option("viewer")
    page.get_by_role("button", name=f"Change organization role of {admin.email}").click()
    expect(page.get_by_role("heading", name=re.compile("from admin to viewer"))).to_be_visible()
    shot(page, "38-demotion-confirm")
    page.get_by_role("button", name="Change to viewer").click()
    expect(page.get_by_text(f"{admin.email} is now viewer")).to_be_visible()
    assert page.csp_errors == []


# --- 5. The org menu -------------------------------------------------------------------------------------


def test_org_menu_switches_at_once_and_one_org_users_get_none(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("apikey_list"))
    current = page.locator(".org-menu-current").inner_text()
    page.locator(".org-menu summary").click()
    shot(page, "39-org-menu")
    other = "Acme Org 2" if current == "Acme Org 1" else "Acme Org 1"
    page.get_by_role("button", name=other).click()
    # The bar names the org whose data the page shows: no state where they disagree.
    assert page.locator(".org-menu-current").inner_text() == other
    assert page.get_by_text(f"Switched to {other}.").is_visible()
    viewer = open_as(world["viewer"])
    viewer.goto("/")
    assert viewer.locator(".org-menu").count() == 0 and viewer.locator(".org-name").inner_text().endswith("Acme Org 1")


# --- 6. Activity Log -------------------------------------------------------------------------------------


def test_activity_log_filters_on_a_phone(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("activity_log"))
    assert page.locator("input[name=since]").get_attribute("type") == "date"
    assert overflow(page) <= 0
    shot(page, "40-activity-mobile")
    page.goto(reverse("activity_log") + "?since=last+tuesday&actor=bob")
    assert page.locator(".form-errors li").count() == 2
    assert page.get_by_text("No entries match").count() == 0
    assert overflow(page) <= 0
    shot(page, "41-activity-bad-filters")


# --- Every main page at 390 and 1280 px, as owner and as viewer ------------------------------------------


def _main_pages(world: dict[str, Any], *, owner: bool) -> list[str]:
    pages = [
        "/",
        reverse("apikey_list"),
        reverse("apikey_list") + "?expiring=7",
        reverse("members"),
        reverse("scan_list"),
        reverse("org_settings"),
        reverse("api_reference"),
        reverse("accounts_security"),
    ]
    if owner:
        key = world["owner_key"].public_id
        pages += [
            reverse("apikey_create"),
            reverse("apikey_create") + "?type=agent",
            reverse("apikey_create") + "?type=public",
            reverse("apikey_detail", args=[key]),
            reverse("apikey_edit", args=[key]),
            reverse("apikey_revoke", args=[key]),
            reverse("activity_log"),
            reverse("tenant_settings"),
            reverse("tenant_outbox"),
        ]
    else:
        pages += [reverse("apikey_create")]  # the 403 page
    return pages


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_no_main_page_scrolls_sideways(open_as: Any, world: dict[str, Any], role: str) -> None:
    from tests.factories import make_key

    make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="A rather long key name for the nightly RMM synchronisation job",
        expires_at=timezone.now() + timedelta(days=2),
        allowed_ips=["203.0.113.0/24"],
    )
    page = open_as(world[role])
    wide = []
    for url in _main_pages(world, owner=role == "owner"):
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            if overflow(page) > 0:
                wide.append(
                    f"{url} at {width}px: {page.evaluate('document.documentElement.scrollWidth')}px wide, "
                    f"widest: {page.evaluate(WIDEST)}"
                )
    assert wide == []
    if role == "viewer":
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/")
        shot(page, "42-dashboard-viewer-mobile")
    else:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(reverse("apikey_create"))
        shot(page, "43-create-key-mobile")
        page.goto(reverse("apikey_list"))
        shot(page, "44-api-keys-mobile")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(reverse("scan_list"))
        shot(page, "45-scans-filters")
    assert page.csp_errors == []
