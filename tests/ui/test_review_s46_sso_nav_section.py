"""Review s46 (SPEC §9: tenant settings; the SSO page is reached from Tenant settings, its
breadcrumb says Tenant › Settings › Single sign-on): on the single sign-on settings page, and on
the confirmation to remove one of its domains, the sidebar marked no entry as the current
section, so an owner lost where they were. "Tenant settings" is now the current entry there,
as on the tenant settings and SCIM pages; the SSO sign-in page (/accounts/sso/start/) is not a
settings page and marks nothing as Tenant settings."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import TenantDomain

pytestmark = pytest.mark.django_db


def current_entries(body: str) -> list[str]:
    """The sidebar links marked as the current page, by their text."""
    nav = re.search(r'<nav class="sidenav".*?</nav>', body, flags=re.DOTALL)
    assert nav is not None, body
    links = re.findall(r"<a\b([^>]*)>(.*?)</a>", nav.group(0), flags=re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", label)).strip() for attrs, label in links if "aria-current" in attrs]


def test_the_sso_settings_page_is_in_the_tenant_settings_section(world: dict[str, Any], client_for: Any) -> None:
    response = client_for(world["owner"]).get(reverse("accounts_sso_settings"))

    assert response.status_code == 200
    assert current_entries(response.content.decode()) == ["Tenant settings"]


def test_a_domain_removal_confirmation_is_in_the_tenant_settings_section(
    world: dict[str, Any], client_for: Any
) -> None:
    claim = TenantDomain.objects.create(tenant=world["tenant"], domain="acme.example")

    response = client_for(world["owner"]).get(reverse("accounts_sso_domain_remove", args=[claim.pk]))

    assert response.status_code == 200
    assert current_entries(response.content.decode()) == ["Tenant settings"]


def test_the_sso_sign_in_page_is_not_a_settings_page(world: dict[str, Any], client_for: Any) -> None:
    response = client_for(world["owner"]).get(reverse("accounts_sso_start"))

    assert response.status_code == 200
    assert "Tenant settings" not in current_entries(response.content.decode())
