"""The UI in a real browser: Python Playwright driving Debian's Chromium against the
live server. Screenshots of the main pages are saved to artifacts/screenshots/."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from tests.browser import chromium, needs_chromium

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
KEY_RE = re.compile(r"^tater_[0-9a-f]{32}$")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    needs_chromium,
]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live_server.url)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        page = context.new_page()
        page.csp_errors = []  # type: ignore[attr-defined]
        page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_errors.append(msg.text))
        page.set_default_timeout(15_000)
        yield page
        context.close()


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto(reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("button.primary[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def optional_url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def test_main_pages(page: Any, world: dict[str, Any]) -> None:
    """Every main page renders in Chromium without CSP violations; screenshots of each."""
    from tests.factories import PASSWORD, make_key

    make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="SIEM enrichment (read only)",
        scopes=["*:read"],
    )
    sign_in(page, world["owner"].email, PASSWORD)
    page.goto("/")
    assert page.title().endswith("· Tater")
    shot(page, "01-dashboard")

    page.goto(reverse("apikey_list"))
    assert page.get_by_role("heading", name="API Keys").is_visible()
    assert page.get_by_role("link", name="owner key", exact=True).is_visible()
    shot(page, "02-api-keys")

    page.goto(reverse("apikey_create"))
    # The per-resource table only shows for the "Limited" preset.
    assert page.locator("#limited-permissions").is_hidden()
    page.locator("input[name=preset][value=limited]").check()
    assert page.locator("#limited-permissions").is_visible()
    page.get_by_label("Scans", exact=True).select_option("write")
    page.locator("#id_name").fill("RMM nightly sync")
    shot(page, "03-create-key")
    page.get_by_role("button", name="Generate key").click()
    secret = page.locator("#api-key-value").inner_text()
    assert KEY_RE.match(secret)
    shot(page, "04-show-once")
    page.get_by_role("link", name="I’ve stored the key — go to its page").click()
    expect(page.get_by_role("heading", name=re.compile("RMM nightly sync"))).to_be_visible()
    assert secret not in page.content()
    shot(page, "05-key-detail")

    detail_url = page.url
    page.get_by_role("link", name="Revoke").click()
    shot(page, "06-confirm-revoke")

    # Edit settings: only the key's own levels are offered; service errors show inline.
    page.goto(detail_url + "edit/")
    assert page.locator("select[name=perm_scans] option").evaluate_all("els => els.map(e => e.value)") == [
        "",
        "read",
        "write",
    ]
    page.get_by_label("Rate limit for this key").fill("lots")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_rate_limit_error")).to_be_visible()
    assert page.get_by_label("Rate limit for this key").get_attribute("aria-invalid") == "true"
    shot(page, "11-edit-key-error")

    page.goto(reverse("members"))
    shot(page, "07-members")
    page.goto(reverse("tenant_settings"))
    shot(page, "08-tenant-settings")

    # Keyboard: the skip link is the first stop and moves focus to the main content.
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("apikey_list"))
    # The key table reflows into one card per key: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(
        "document.querySelector('.table-wrap').scrollWidth <= document.querySelector('.table-wrap').clientWidth"
    )
    assert page.locator("table.table-stack tbody tr").first.evaluate("tr => getComputedStyle(tr).display") == "block"
    assert page.get_by_role("columnheader", name="Expires").count() == 1  # still a table to assistive tech
    shot(page, "09-api-keys-mobile")
    page.goto(reverse("members"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "12-members-mobile")
    assert page.csp_errors == []


def test_viewer_sees_403_page(page: Any, world: dict[str, Any]) -> None:
    from tests.factories import PASSWORD

    sign_in(page, world["viewer"].email, PASSWORD)
    response = page.goto(reverse("apikey_create"))
    assert response.status == 403
    assert page.get_by_role("heading", name="You don’t have permission to do this").is_visible()
    shot(page, "10-forbidden")


def _totp_code(secret: str) -> str:
    from django_otp.oath import totp

    key = base64.b32decode(secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key):06d}"


def test_full_flow(page: Any, live_server: Any) -> None:
    """Sign up → enable 2FA → create an org → create a key and copy it from the show-once
    page → call the API with it → see that write in the Activity Log → rotate and revoke."""
    from audit.models import AuditEvent

    email, password = "flow@example.com", "Sp4rkling-potato-salad"
    page.goto(reverse("account_signup"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", password)
    page.fill("input[name=password2]", password)
    shot(page, "20-sign-up")
    page.click("button.primary[type=submit]")
    page.wait_for_url(lambda url: "/accounts/signup/" not in url)

    # Two-factor enrolment: read the setup key, answer with the current TOTP code.
    page.goto(reverse("accounts_2fa_setup"))
    if "/reauthenticate/" in page.url:  # sensitive account pages ask for the password again
        page.fill("input[name=password]", password)
        page.locator("main button[type=submit]").first.click()
        page.wait_for_url(lambda url: "/reauthenticate/" not in url)
    shot(page, "21-2fa-setup")
    secret = page.locator("code.secret").inner_text()
    page.fill("input[name=code]", _totp_code(secret))
    page.click("button.primary[type=submit]")
    page.wait_for_load_state()
    assert AuditEvent.objects.filter(action="mfa.enabled", actor_email=email).exists()

    # A new organization becomes the current one.
    page.goto(reverse("org_create"))
    page.get_by_label("Organization name").fill("Production")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Production").is_visible()
    # The top bar names the org the page shows (a menu when there are others to switch to).
    assert page.locator(".org-menu-current, .org-name strong").inner_text() == "Production"

    # Create a key and copy it with the copy button.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API Keys").click()
    page.get_by_role("link", name="Generate API key").first.click()
    page.locator("#id_name").fill("Scanner upload")
    page.get_by_role("button", name="Generate key").click()
    shown = page.locator("#api-key-value").inner_text()
    page.get_by_role("button", name="Copy key").click()
    # The status is written once the asynchronous clipboard write resolves: wait for it.
    page.wait_for_function("document.querySelector('#copy-key-status').textContent.trim() === 'Copied to clipboard'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == shown and KEY_RE.match(copied)
    snippet = page.locator("#snip-curl").inner_text()
    assert f"X-API-Key: {copied}" in snippet
    tenant_id = re.search(r"tenantId=([0-9a-f-]{36})", snippet).group(1)
    org_id = re.search(r"organizationId=(org-[0-9a-f-]{36})", snippet).group(1)
    # Reloading re-posts the form: no second key, and the key is not shown again.
    page.reload()
    page.wait_for_url(live_server.url + reverse("apikey_list"))
    assert copied not in page.content()
    assert "already submitted" in page.content()
    assert page.get_by_role("link", name="Scanner upload", exact=True).count() == 1

    # Call the API with the copied key, exactly as the snippet does.
    upload = requests.post(
        f"{live_server.url}/api/scans/upload",
        params={"tenantId": tenant_id, "organizationId": org_id},
        headers={"X-API-Key": copied},
        json={
            "scanner": "nmap",
            "target": "10.0.0.0/24",
            "started_at": "2026-01-15T09:30:00Z",
            "findings": [{"title": "Telnet enabled", "severity": "high", "host": "10.0.0.12", "port": 23}],
        },
        timeout=30,
    )
    assert upload.status_code == 201, upload.text

    # The dashboard lists the upload under recent scans.
    page.goto("/")
    assert page.get_by_role("region", name="Recent scans").get_by_text("nmap").is_visible()
    shot(page, "24-dashboard-after-upload")

    # The write shows in the Activity Log with the API channel.
    activity = optional_url("activity_log") or optional_url("audit_log")
    assert activity, "the Activity Log page (orgs.activity_urls) does not exist yet"
    page.goto(activity)
    row = page.locator("tr", has_text="scan.uploaded").first
    assert row.is_visible()
    assert "api" in row.inner_text().lower()
    shot(page, "22-activity-log")

    # Rotate with a one-hour grace period: both secrets work, the new one is shown once.
    page.goto(reverse("apikey_list"))
    page.get_by_role("link", name="Scanner upload", exact=True).click()
    page.get_by_role("link", name="Rotate").click()
    page.get_by_label("1 hour").check()
    page.get_by_role("button", name="Rotate key").click()
    rotated = page.locator("#api-key-value").inner_text()
    assert KEY_RE.match(rotated) and rotated != copied
    validate = f"{live_server.url}/api/v1/auth/validate"
    assert requests.get(validate, headers={"X-API-Key": rotated}, timeout=30).status_code == 200
    assert requests.get(validate, headers={"X-API-Key": copied}, timeout=30).status_code == 200

    # Revoke: confirmed, final, and the API refuses both secrets.
    page.get_by_role("link", name="I’ve stored the key — go to its page").click()
    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator("h1 .badge")).to_have_text("Revoked")  # the key page had "Active" before
    shot(page, "23-key-revoked")
    for key in (rotated, copied):
        refused = requests.get(validate, headers={"X-API-Key": key}, timeout=30)
        assert refused.status_code == 401
        assert refused.json()["error"] == "KEY_REVOKED"
    assert page.csp_errors == []
