"""Review s47 (SPEC §8: SSO through SAML; §9 tenant settings): an owner pasting an IdP signing
certificate that has expired is told so on the page right after saving, and what they read is
true. The page said "every SAML sign-in fails" once the saved certificate has expired, yet a
response signed with that certificate's key signs in (the signature is checked against the key,
not the certificate's dates, as SAML service providers commonly do): an owner reading it would
believe their members locked out, or distrust the page. Decision (docs/accounts.md, SAML): an
expired certificate is saved, with a warning naming its date and the real risk: IdPs replace the
key when its certificate expires, and from then every sign-in fails until the new one is pasted."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.models import TenantSSOConfig
from tests.accounts import saml_idp
from tests.accounts.test_sso_saml import browser, jane, post_response, signed_in, start
from tests.accounts.test_sso_saml import tenant_saml as _tenant_saml_fixture
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db

tenant_saml = _tenant_saml_fixture


def expired_by(days: int) -> saml_idp.SAMLIdP:
    """A test IdP signing with a key whose certificate expired ``days`` ago."""
    idp = saml_idp.SAMLIdP()
    key = cast(rsa.RSAPrivateKey, serialization.load_pem_private_key(idp.keys.key_pem.encode(), None))
    name = x509.load_pem_x509_certificate(idp.keys.cert_pem.encode()).subject
    cert_pem = saml_idp.self_signed(key, name, issued_ago=dt.timedelta(days=1000), valid_for=-dt.timedelta(days=days))
    idp.keys = saml_idp.KeyPair(key_pem=idp.keys.key_pem, cert_pem=cert_pem)
    return idp


@pytest.fixture
def idp() -> saml_idp.SAMLIdP:
    return expired_by(3)


def alerts(body: str) -> list[str]:
    found = re.findall(r'role="alert"[^>]*>(.*?)</(?:p|div|li)>', body, re.DOTALL)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) for text in found]


def test_the_page_tells_the_truth_about_an_expired_certificate(
    idp: saml_idp.SAMLIdP, tenant_saml: dict[str, Any]
) -> None:
    member = browser()
    request = start(member, idp)
    post_response(member, request.acs_url, jane(idp, request))
    assert signed_in(member)  # the expired certificate's key still verifies the IdP's signature

    owner = Client()
    owner.force_login(tenant_saml["owner"])
    body = owner.get(f"/accounts/sso/?tenant={tenant_saml['tenant'].public_id}").content.decode()

    warning = " ".join(text for text in alerts(body) if "certificate" in text.lower())
    expired_on = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).strftime("%Y-%m-%d")
    assert "expired" in warning and expired_on in warning, alerts(body)
    # Not "every SAML sign-in fails", which the member above just disproved.
    assert not re.search(r"expired on [0-9-]+: every saml sign-in fails", warning.lower()), warning
    assert "still work" in warning.lower(), warning
    assert "new" in warning.lower()  # what to do: paste the IdP's new certificate when it rolls


def test_pasting_an_expired_certificate_saves_it_with_a_warning_on_the_next_page(
    idp: saml_idp.SAMLIdP, tenant_saml: dict[str, Any]
) -> None:
    tenant = tenant_saml["tenant"]
    TenantSSOConfig.objects.filter(tenant=tenant).update(idp_x509_cert=saml_idp.make_keypair().cert_pem.strip())
    owner = Client()
    owner.force_login(tenant_saml["owner"])
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = {**_Form(owner.get(url).content.decode(), "").data, "idp_x509_cert": idp.keys.cert_pem}

    saved = owner.post(url, data, follow=True)

    assert saved.redirect_chain, saved.context["form"].errors
    assert TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert.strip() == idp.keys.cert_pem.strip()
    expired_on = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).strftime("%Y-%m-%d")
    assert any("expired" in text and expired_on in text for text in alerts(saved.content.decode()))
