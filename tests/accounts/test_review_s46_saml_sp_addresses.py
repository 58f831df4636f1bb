"""Review s46 (SPEC §8: SSO through SAML; §9: tenant settings): the single sign-on settings page
showed the redirect URI to register for OpenID Connect, but for SAML no address at all, although
the app serves this tenant's Assertion Consumer Service and its SP metadata. An owner setting up
SAML at Entra ID or Okta had nothing to type into "Reply URL (ACS)" and "Identifier (Entity ID)"
and could not finish. The SAML part of the page now lists the ACS URL, the SP entity ID and the
metadata URL of the saved configuration; each is served: the metadata describes that entity ID
and that ACS, and the ACS takes the identity provider's cross-site POST."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client
from lxml import etree

from accounts import sso
from tests.accounts.saml_idp import SAMLIdP
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

HOST = "localhost"  # a browser always sends Host; the addresses are built from it
NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def saml_part(body: str) -> str:
    blocks = [
        b
        for b in re.findall(r"<fieldset\b.*?</fieldset>", body, flags=re.DOTALL)
        if re.search(r"<legend\b[^>]*>\s*SAML", b)
    ]
    assert len(blocks) == 1, body
    return blocks[0]


def shown_addresses(body: str) -> dict[str, str]:
    """Label -> the absolute address shown beside it in the SAML part of the page."""
    found = {}
    for label, value in re.findall(r"<dt\b[^>]*>(.*?)</dt>\s*<dd\b[^>]*>(.*?)</dd>", saml_part(body), re.DOTALL):
        address = text(value)
        if address.startswith(("http://", "https://")):
            found[text(label)] = address
    return found


def address(addresses: dict[str, str], wanted: str) -> str:
    matches = [value for label, value in addresses.items() if wanted.lower() in label.lower()]
    assert len(matches) == 1, (wanted, addresses)
    return matches[0]


def owner_page(owner: Any, tenant: Any) -> str:
    browser = Client(HTTP_HOST=HOST)
    browser.force_login(owner)
    response = browser.get(f"/accounts/sso/?tenant={tenant.public_id}")
    assert response.status_code == 200
    return response.content.decode()


def saml_tenant(idp: SAMLIdP, entity_id: str | None = None) -> tuple[Any, Any]:
    tenant, owner, _orgs = make_tenant(name="Acme")
    sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": entity_id or idp.entity_id,
            "idp_sso_url": idp.sso_url,
            "idp_x509_cert": idp.keys.cert_pem,
        },
    )
    return tenant, owner


def assert_served(addresses: dict[str, str]) -> None:
    acs = address(addresses, "ACS URL")
    entity_id = address(addresses, "Entity ID")
    metadata_url = address(addresses, "Metadata URL")
    for shown in (acs, entity_id, metadata_url):
        assert urlparse(shown).netloc == HOST, shown

    # The metadata an IdP imports: XML naming the shown entity ID and the shown ACS.
    idp_side = Client(HTTP_HOST=HOST)
    metadata = idp_side.get(urlparse(metadata_url).path)
    assert metadata.status_code == 200
    assert "xml" in metadata["Content-Type"]
    root = etree.fromstring(metadata.content)
    assert root.get("entityID") == entity_id
    services = root.findall(f".//{{{NS_MD}}}AssertionConsumerService")
    assert [(s.get("Location"), s.get("Binding")) for s in services] == [(acs, POST_BINDING)]

    # The ACS takes the IdP's POST (cross-site: no CSRF token), and goes on to finish the sign-in.
    posted = Client(HTTP_HOST=HOST, enforce_csrf_checks=True).post(urlparse(acs).path, {"SAMLResponse": "e30="})
    assert posted.status_code == 302, posted
    assert urlparse(posted["Location"]).path == urlparse(acs).path + "finish/"


def test_the_saml_addresses_to_register_are_shown_and_served() -> None:
    tenant, owner = saml_tenant(SAMLIdP())

    assert_served(shown_addresses(owner_page(owner, tenant)))


def test_after_the_idp_entity_id_changes_the_same_addresses_are_shown_and_served() -> None:
    # Review s47: the addresses registered at the IdP stay (they were given a new value here).
    idp = SAMLIdP()
    tenant, owner = saml_tenant(idp)
    before = shown_addresses(owner_page(owner, tenant))
    sso.sso_config_save(tenant=tenant, actor=owner, values={"idp_entity_id": "https://idp.acme.test/saml/other"})

    body = owner_page(owner, tenant)
    after = shown_addresses(body)
    assert_served(after)
    assert after == before
    assert "stay the same" in text(saml_part(body)).lower()


def test_an_openid_connect_tenant_is_shown_the_saml_addresses_it_would_keep() -> None:
    # Review s47: one switching to SAML registers them at the IdP first; no metadata until then.
    tenant, owner, _orgs = make_tenant(name="Acme")
    sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={"protocol": "oidc", "issuer": "https://idp.acme.test", "client_id": "tater"},
    )

    body = owner_page(owner, tenant)
    assert address(shown_addresses(body), "ACS URL").startswith(f"http://{HOST}/accounts/saml/")
    assert "metadata url answers once a saml configuration is saved" in text(saml_part(body)).lower()


def test_before_saving_the_page_shows_the_saml_addresses() -> None:
    # Review s47: Okta asks for them before it shows the IdP's own (they appeared after a save).
    tenant, owner, _orgs = make_tenant(name="Acme")

    body = owner_page(owner, tenant)
    assert address(shown_addresses(body), "Entity ID").startswith(f"http://{HOST}/accounts/saml/")
