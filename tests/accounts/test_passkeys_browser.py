"""Passkeys in a real browser: Debian's Chromium through Playwright, with a CDP virtual
authenticator (a platform authenticator with resident keys and user verification) standing
in for the device's screen lock.

One flow, as a person would go through it: sign in with the password, add a passkey on the
account security page, rename it, sign out; sign in again with the password and complete
the second step with the passkey; open the admin (which needs a verified second factor);
remove the passkey. Every page runs under the product's CSP (no inline script): a CSP
violation in the console fails the test. Screenshots go to artifacts/screenshots/.

WebAuthn needs a secure context: the app is reached as http://localhost:<port> (localhost is
one), so the relying party id is ``localhost`` (taken from the request's host).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tests.browser import chromium, needs_chromium
from tests.factories import PASSWORD, make_tenant

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    needs_chromium,
]


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def app_url(live_server: Any) -> str:
    """The live server (listening on 127.0.0.1) addressed as localhost: a secure context."""
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://localhost:{port}"


class PasskeyPage:
    """A page with a virtual authenticator attached (CDP ``WebAuthn`` domain)."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.csp_errors: list[str] = []
        self.page.on("console", lambda msg: "Content Security Policy" in msg.text and self.csp_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.csp_errors.append(f"page error: {exc}"))
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable")
        self.authenticator_id = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        return list(self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})["credentials"])

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def me(self) -> Any:
        response = self.context.request.get("/api/v1/me")
        return response.status, (response.json() if response.status == 200 else None)

    def sign_in_with_password(self, email: str) -> None:
        self.page.goto("/accounts/login/")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button.primary[type=submit]")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_passkey_enrol_sign_in_admin_and_remove(live_server: Any, browser: Any) -> None:
    tenant, user, _ = make_tenant()
    user.is_staff = user.is_superuser = True
    user.save()
    base = app_url(live_server)
    tab = PasskeyPage(browser, base)
    page = tab.page

    # 1. Enrol on the account security page (signed in with the password, no 2FA yet).
    tab.sign_in_with_password(user.email)
    page.goto("/accounts/security/")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("text=Passkey added")
    tab.shot("passkeys-security-enrolled")
    passkey = WebAuthnCredential.objects.get(user=user)
    assert passkey.name == "Passkey" and passkey.credential_id_sha256
    stored = tab.credentials()
    assert len(stored) == 1 and stored[0]["rpId"] == "localhost" and stored[0]["isResidentCredential"] is True
    assert AuditEvent.objects.filter(action="mfa.enabled", tenant=tenant, changes__method="passkey").exists()

    # 2. Name it.
    page.fill(f"#passkey-name-{passkey.pk}", "Work laptop")
    page.get_by_role("button", name="Rename").click()
    page.wait_for_selector("text=Passkey renamed")
    passkey.refresh_from_db()
    assert passkey.name == "Work laptop"

    # 3. Sign out, then a fresh sign-in: the password, then the passkey.
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_load_state("networkidle")
    assert tab.me()[0] == 401
    tab.sign_in_with_password(user.email)
    assert page.url.endswith("/accounts/2fa/challenge/")
    assert tab.me()[0] == 401  # not signed in before the second step
    tab.shot("passkeys-challenge")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(f"{base}/")
    status, me = tab.me()
    assert status == 200 and me["two_factor"] == {"enabled": True, "verified": True}
    assert AuditEvent.objects.filter(action="user.login", changes__method="passkey").exists()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None and passkey.sign_count >= 1

    # 4. The admin accepts the passkey-verified session.
    response = page.goto("/admin/")
    assert response.status == 200 and page.url == f"{base}/admin/"
    assert page.locator("#site-name, h1").first.is_visible()
    tab.shot("passkeys-admin")

    # 5. Remove it (signed in moments ago: no re-authentication needed).
    page.goto("/accounts/security/")
    page.get_by_role("button", name="Remove Work laptop").click()
    page.wait_for_selector("text=removed")
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert "No passkeys yet." in page.content()
    assert AuditEvent.objects.filter(
        action="mfa.disabled", changes__method="passkey", changes__name="Work laptop"
    ).exists()
    tab.shot("passkeys-removed")

    assert tab.csp_errors == []
    tab.context.close()
