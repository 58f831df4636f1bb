"""Review s46 (SPEC §8: SSO through SAML; §10: operators' Django admin): the owner's settings
page refused an "IdP signing certificate" that is no certificate, and any private key, but the
Django admin saved through the service, which only checked the field was not empty: an operator
could save a truncated certificate (every SAML sign-in of the tenant then failed at the signature
check) or a private key (stored, and shown back on the next page). The check now sits in the one
validation every channel goes through: the page, the admin and the service itself."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from tater.exceptions import InvalidInput
from tests.accounts.saml_idp import SAMLIdP
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db

SAML = {
    "protocol": "saml",
    "idp_entity_id": "https://idp.acme.test/saml",
    "idp_sso_url": "https://idp.acme.test/saml/sso",
}


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def truncated_certificate() -> str:
    pem = SAMLIdP().keys.cert_pem
    return pem[: len(pem) // 2]


BAD = [
    pytest.param(truncated_certificate, "certificate", id="truncated"),
    pytest.param(private_key_pem, "private key", id="private key"),
]


def admin_add(operator: Client, tenant: Any, certificate: str, **extra: str) -> Any:
    data = {"tenant": str(tenant.pk), **SAML, "idp_x509_cert": certificate, "default_role": "member"}
    data.update(is_active="on", **extra)
    return operator.post("/admin/accounts/tenantssoconfig/add/", data)


@pytest.mark.parametrize(("typed", "says"), BAD)
def test_the_admin_refuses_it_beside_the_field(typed: Any, says: str) -> None:
    tenant, _owner, _ = make_tenant(name="Acme")
    operator = superuser_in_admin()

    answer = admin_add(operator, tenant, typed())

    assert answer.status_code == 200  # the add form again, with the error
    errors = answer.context["adminform"].form.errors
    assert says in " ".join(errors.get("idp_x509_cert", [])).lower(), errors
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()
    assert "PRIVATE KEY" not in answer.content.decode()  # never sent back into the page


def test_the_admin_refuses_a_private_key_on_an_openid_connect_configuration() -> None:
    tenant, _owner, _ = make_tenant(name="Acme")
    operator = superuser_in_admin()
    data = {"tenant": str(tenant.pk), "protocol": "oidc", "issuer": "https://idp.acme.test", "client_id": "tater"}
    data.update(client_secret="s3", idp_x509_cert=private_key_pem(), default_role="member", is_active="on")

    answer = operator.post("/admin/accounts/tenantssoconfig/add/", data)

    assert answer.status_code == 200
    assert "private key" in " ".join(answer.context["adminform"].form.errors.get("idp_x509_cert", [])).lower()
    assert "PRIVATE KEY" not in answer.content.decode()
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()


def test_the_admin_refuses_a_changed_certificate_but_saves_beside_one_stored_before() -> None:
    tenant, _owner, _ = make_tenant(name="Acme")
    config = TenantSSOConfig.objects.create(tenant=tenant, provider_id="tenant-acme", **SAML, idp_x509_cert="old")
    operator = superuser_in_admin()
    url = f"/admin/accounts/tenantssoconfig/{config.pk}/change/"
    data = {**_Form(operator.get(url).content.decode(), "").data, "idp_x509_cert": "old"}

    refused = operator.post(url, {**data, "idp_x509_cert": truncated_certificate()})
    assert refused.status_code == 200
    assert "idp_x509_cert" in refused.context["adminform"].form.errors
    assert TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert == "old"

    assert operator.post(url, {**data, "default_role": "viewer"}).status_code == 302
    assert TenantSSOConfig.objects.get(tenant=tenant).default_role == "viewer"


def test_the_admin_saves_a_certificate() -> None:
    tenant, _owner, _ = make_tenant(name="Acme")
    certificate = SAMLIdP().keys.cert_pem

    assert admin_add(superuser_in_admin(), tenant, certificate).status_code == 302
    assert TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert.strip() == certificate.strip()


@pytest.mark.parametrize(("typed", "says"), BAD)
def test_the_service_refuses_it_whoever_calls(typed: Any, says: str) -> None:
    tenant, owner, _ = make_tenant(name="Acme")

    with pytest.raises(InvalidInput) as refused:
        sso.sso_config_save(tenant=tenant, actor=owner, values={**SAML, "idp_x509_cert": typed()})

    assert refused.value.field == "idp_x509_cert" and says in refused.value.message.lower()
    assert "PRIVATE KEY" not in str(refused.value.details)
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(("typed", "says"), BAD)
def test_the_owners_page_still_refuses_it(typed: Any, says: str) -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = {**_Form(browser.get(url).content.decode(), "").data, **SAML, "idp_x509_cert": typed()}

    answer = browser.post(url, data)

    assert answer.status_code == 400
    assert says in " ".join(answer.context["form"].errors.get("idp_x509_cert", [])).lower()
    assert "PRIVATE KEY" not in answer.content.decode()
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()
