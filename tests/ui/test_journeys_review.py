"""Journeys of a review in a real browser (Playwright + Debian's Chromium): an org admin
narrowing someone else's key is told in words what they may do (SPEC §2a); a tenant owner's
destructive actions on SSO domains and SCIM tokens ask for confirmation first; the SSO form
speaks plainly; the identity-provider connections page sits in Tater's layout."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import domains
from accounts.models import TenantDomain
from scim.models import ScimToken
from scim.services import tokens as token_services
from tests.factories import make_key
from tests.ui import test_browser_product as product

# The product tests' browser (one Chromium per module), signed-in pages and skip marks.
browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_admin_widening_another_persons_key_is_told_what_they_may_do(open_as: Any, world: dict[str, Any]) -> None:
    key, _ = make_key(
        user=world["member"],
        tenant=world["tenant"],
        org=world["org1"],
        name="Nightly sync",
        scopes=["scans:write"],
        expires_at=timezone.now() + timedelta(days=7),
        allowed_ips=["10.0.0.0/8"],
    )
    page = open_as(world["admin"])
    page.goto(reverse("apikey_edit", args=[key.public_id]))
    # A later expiry is not even offered (a crafted one is refused: tests/apikeys/test_key_pages.py).
    assert "1 year from now" not in page.get_by_label("Expires").inner_text()
    page.get_by_label("IP allowlist").fill("")
    page.get_by_role("button", name="Save changes").click()
    assert "allow more addresses" in page.locator("#id_allowed_ips_error").inner_text()
    # The service's argument names are not the user's words.
    main = page.locator("main").inner_text()
    assert "expires_at" not in main and "allowed_ips" not in main
    key.refresh_from_db()
    assert key.allowed_ips == ["10.0.0.0/8"]


def test_removing_a_domain_asks_first(open_as: Any, world: dict[str, Any]) -> None:
    domains.domain_add(tenant=world["tenant"], actor=world["owner"], domain="acme.example")
    page = open_as(world["owner"])
    page.goto(reverse("accounts_sso_settings"))
    # The identity-provider form's labels read as words, not model field names.
    for label in ("Client ID", "IdP entity ID", "IdP signing certificate", "Require SSO"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    page.get_by_role("link", name="Remove acme.example").click()
    expect(page.get_by_role("heading", name="Remove acme.example?")).to_be_visible()
    assert TenantDomain.objects.filter(domain="acme.example").exists()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="Single sign-on")).to_be_visible()
    page.get_by_role("link", name="Remove acme.example").click()
    page.get_by_role("button", name="Remove domain").click()
    expect(page.get_by_text("acme.example removed.")).to_be_visible()
    assert not TenantDomain.objects.filter(domain="acme.example").exists()


def test_revoking_a_scim_token_asks_first(open_as: Any, world: dict[str, Any]) -> None:
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Entra ID", actor=world["owner"])
    page = open_as(world["owner"])
    page.goto(reverse("scim_settings"))
    page.get_by_role("link", name="Revoke Entra ID").click()
    expect(page).to_have_title("Revoke SCIM token “Entra ID” · Tater")
    assert ScimToken.objects.get(pk=issued.token.pk).revoked_at is None
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("SCIM token “Entra ID” revoked")).to_be_visible()
    assert ScimToken.objects.get(pk=issued.token.pk).revoked_at is not None


def test_identity_provider_connections_page_is_in_the_product_layout(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("accounts_security"))
    page.get_by_role("link", name="Connected identity providers").click()
    expect(page).to_have_title(re.compile(r" · Tater$"))  # waits for the page the click opens
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    assert page.locator("link[rel=stylesheet]").count() >= 1


def test_a_refused_domain_stays_in_its_field_with_the_reason_beside_it(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("accounts_sso_settings"))
    page.get_by_label("Email domain").fill("acme example")
    page.get_by_role("button", name="Add domain").click()
    field = page.locator(".field.has-error", has=page.get_by_label("Email domain"))
    expect(field.locator("p.error")).to_have_count(1)  # waits for the answer to the click
    assert page.get_by_label("Email domain").input_value() == "acme example"
    page.get_by_label("Email domain").fill("acme.example")
    page.get_by_role("button", name="Add domain").click()
    expect(page.get_by_text("Publish the TXT record below for acme.example")).to_be_visible()
    assert page.get_by_label("Email domain").input_value() == ""
