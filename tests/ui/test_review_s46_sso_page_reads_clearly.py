"""Review s46: the single sign-on settings page listed the OpenID Connect fields and the SAML
fields one after another in one form, without saying which protocol the tenant's identity
provider uses (an owner set up with Okta OIDC wondered whether the empty SAML fields were
missing), and it had no breadcrumb back to the tenant settings it is reached from, unlike the
SCIM page beside it. The page now says which protocol is in use (or that none is set up),
groups the fields per protocol with the one in use marked, and has the breadcrumb
Tenant › Settings › Single sign-on (SPEC §8, §9: tenant settings)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import TenantSSOConfig

pytestmark = pytest.mark.django_db


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def groups(body: str) -> dict[str, str]:
    """Each fieldset's legend text -> the fieldset's text."""
    found = {}
    for block in re.findall(r"<fieldset\b.*?</fieldset>", body, flags=re.DOTALL):
        legend = re.search(r"<legend\b[^>]*>(.*?)</legend>", block, flags=re.DOTALL)
        if legend:
            found[text(legend.group(1))] = text(block)
    return found


def protocol_group(body: str, name: str) -> tuple[str, str]:
    matches = [(legend, content) for legend, content in groups(body).items() if legend.startswith(name)]
    assert len(matches) == 1, groups(body).keys()
    return matches[0]


def page(client_for: Any, owner: Any) -> str:
    response = client_for(owner).get(reverse("accounts_sso_settings"))
    assert response.status_code == 200
    return response.content.decode()


def configure(world: dict[str, Any], protocol: str) -> None:
    TenantSSOConfig.objects.create(
        tenant=world["tenant"],
        provider_id="tenant-acme-" + protocol,
        protocol=protocol,
        issuer="https://idp.acme.test" if protocol == "oidc" else "",
        client_id="tater" if protocol == "oidc" else "",
        idp_entity_id="https://idp.acme.test/saml" if protocol == "saml" else "",
        idp_sso_url="https://idp.acme.test/saml/sso" if protocol == "saml" else "",
    )


@pytest.mark.parametrize(
    ("protocol", "used", "unused"),
    [("oidc", "OpenID Connect", "SAML 2.0"), ("saml", "SAML 2.0", "OpenID Connect")],
)
def test_the_protocol_in_use_is_said_and_its_fields_marked(
    world: dict[str, Any], client_for: Any, protocol: str, used: str, unused: str
) -> None:
    configure(world, protocol)
    body = page(client_for, world["owner"])
    assert f"In use: {used}" in text(body)
    used_legend, used_fields = protocol_group(body, used)
    unused_legend, unused_fields = protocol_group(body, unused)
    assert re.search(r"\bin use\b", used_legend) and "not in use" not in used_legend
    assert "not in use" in unused_legend
    oidc_fields, saml_fields = (used_fields, unused_fields) if protocol == "oidc" else (unused_fields, used_fields)
    assert "Issuer URL" in oidc_fields and "Client ID" in oidc_fields and "IdP entity ID" not in oidc_fields
    assert (
        "IdP entity ID" in saml_fields and "IdP signing certificate" in saml_fields and "Issuer URL" not in saml_fields
    )


def test_without_a_configuration_nothing_is_marked_in_use(world: dict[str, Any], client_for: Any) -> None:
    body = page(client_for, world["owner"])
    assert "Not set up yet" in text(body)
    for name in ("OpenID Connect", "SAML 2.0"):
        legend, _ = protocol_group(body, name)
        assert "in use" not in legend


def test_a_breadcrumb_leads_back_to_the_tenant_settings(world: dict[str, Any], client_for: Any) -> None:
    body = page(client_for, world["owner"])
    crumbs = re.search(r'<nav class="breadcrumbs" aria-label="Breadcrumb">(.*?)</nav>', body, flags=re.DOTALL)
    assert crumbs, "no breadcrumb"
    assert text(crumbs.group(1)) == "Tenant Settings Single sign-on"
    link = re.search(r'<a href="([^"]+)">Settings</a>', crumbs.group(1))
    assert link
    settings_page = client_for(world["owner"]).get(html.unescape(link.group(1)))
    assert settings_page.status_code == 200 and "Tenant settings" in settings_page.content.decode()
    assert world["tenant"].name in settings_page.content.decode()
