"""Review s46 (SPEC §8: SSO through SAML; §9: tenant settings): the single sign-on settings page
saved anything typed into "IdP signing certificate" ("SSO settings saved."), a truncated copy, the
metadata XML or even a private key; the mistake showed only later, when every SAML sign-in of the
tenant failed at the signature check, with nothing pointing the owner at the certificate. A
private key pasted there was stored. The field now takes a certificate only: PEM (as Entra ID's
"Certificate (Base64)" and Okta's download), or its base64 body alone (as in IdP metadata); any
other text is refused beside the field, saying what to paste, and nothing is saved."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.models import TenantSSOConfig
from tests.accounts.saml_idp import SAMLIdP
from tests.factories import make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def bare_body(pem: str) -> str:
    """The base64 of a PEM certificate without its BEGIN/END lines, on one line (as in metadata)."""
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def save_saml(certificate: str) -> tuple[Any, Any]:
    tenant, owner, _orgs = make_tenant(name="Acme")
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = _Form(browser.get(url).content.decode(), "").data
    data.update(
        protocol="saml",
        idp_entity_id="https://idp.acme.test/saml",
        idp_sso_url="https://idp.acme.test/saml/sso",
        idp_x509_cert=certificate,
    )
    return tenant, browser.post(url, data)


def field_error(body: str, field: str) -> str:
    """The error shown beside ``field`` (its element named by the field's aria-describedby)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</', body, flags=re.DOTALL)
    assert match is not None, body
    return match.group(1)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda pem: "MIIC this is not a certificate", id="text"),
        pytest.param(lambda pem: pem[: len(pem) // 2], id="truncated"),
        pytest.param(lambda pem: f"<md:EntityDescriptor>{pem}</md:EntityDescriptor>", id="metadata xml"),
        pytest.param(lambda pem: base64.b64encode(b"hello").decode(), id="other base64"),
    ],
)
def test_text_that_is_no_certificate_is_refused_beside_the_field(typed: Any) -> None:
    tenant, answer = save_saml(typed(SAMLIdP().keys.cert_pem))

    assert answer.status_code == 400
    assert "certificate" in field_error(answer.content.decode(), "idp_x509_cert").lower()
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()


def test_a_private_key_is_refused_and_not_stored() -> None:
    tenant, answer = save_saml(private_key_pem())

    assert answer.status_code == 400
    assert "private key" in field_error(answer.content.decode(), "idp_x509_cert").lower()
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()
    assert "PRIVATE KEY" not in answer.content.decode()  # not even sent back into the page


@pytest.mark.parametrize("shape", [lambda pem: pem, bare_body], ids=["pem", "base64 body"])
def test_a_certificate_is_saved(shape: Any) -> None:
    certificate = shape(SAMLIdP().keys.cert_pem)

    tenant, answer = save_saml(certificate)

    assert answer.status_code == 302, answer.content.decode()
    assert TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert.strip() == certificate.strip()


def test_other_settings_still_save_beside_a_certificate_stored_before_the_check() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    TenantSSOConfig.objects.create(
        tenant=tenant,
        provider_id="tenant-acme-saml",
        protocol="saml",
        idp_entity_id="https://idp.acme.test/saml",
        idp_sso_url="https://idp.acme.test/saml/sso",
        idp_x509_cert="stored before",
    )
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = {**_Form(browser.get(url).content.decode(), "").data, "idp_x509_cert": "stored before"}

    answer = browser.post(url, {**data, "default_role": "viewer"})

    assert answer.status_code == 302
    assert TenantSSOConfig.objects.get(tenant=tenant).default_role == "viewer"
