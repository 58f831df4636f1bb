"""Review s46 (SPEC §8: SSO through OpenID Connect and SAML; §10: the Django admin): saving SAML
settings with only the signing certificate missing put one error, "SAML needs the IdP entity id,
its SSO URL and its signing certificate", under the IdP entity ID field, which was filled in:
the owner looked for a mistake where there was none. Each missing field now has its own error
beside it, on the owner's page and in the admin, and none sits beside a field filled in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from tater.exceptions import InvalidInput
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db

SAML = {
    "protocol": "saml",
    "idp_entity_id": "https://idp.acme.test/saml",
    "idp_sso_url": "https://idp.acme.test/saml/sso",
    "idp_x509_cert": "",
}
OIDC = {"protocol": "oidc", "issuer": "https://idp.acme.test", "client_id": "tater"}
CASES = [
    pytest.param({**SAML}, ["idp_x509_cert"], id="saml certificate"),
    pytest.param({**SAML, "idp_sso_url": ""}, ["idp_sso_url", "idp_x509_cert"], id="saml url and certificate"),
    pytest.param(
        {"protocol": "saml", "idp_entity_id": "", "idp_sso_url": "", "idp_x509_cert": ""},
        ["idp_entity_id", "idp_sso_url", "idp_x509_cert"],
        id="saml all",
    ),
    pytest.param({**OIDC, "client_id": ""}, ["client_id"], id="oidc client id"),
    pytest.param({**OIDC, "issuer": ""}, ["issuer"], id="oidc issuer"),
]
REQUIRED = ["issuer", "client_id", "idp_entity_id", "idp_sso_url", "idp_x509_cert"]


def assert_beside_each(errors: Any, missing: list[str]) -> None:
    for name in REQUIRED:
        if name in missing:
            assert errors.get(name), (name, errors)
        else:
            assert not errors.get(name), (name, errors)


@pytest.mark.parametrize(("typed", "missing"), CASES)
def test_the_owners_page_shows_each_missing_field_beside_it(typed: dict[str, str], missing: list[str]) -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = {**_Form(browser.get(url).content.decode(), "").data, **typed}

    answer = browser.post(url, data)

    assert answer.status_code == 400
    assert_beside_each(answer.context["form"].errors, missing)
    body = answer.content.decode()
    for name in missing:
        assert f'id="id_{name}_error"' in body
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(("typed", "missing"), CASES)
def test_the_admin_shows_each_missing_field_beside_it(typed: dict[str, str], missing: list[str]) -> None:
    tenant, _owner, _ = make_tenant(name="Acme")
    data = {"tenant": str(tenant.pk), "default_role": "member", "is_active": "on", **typed}

    answer = superuser_in_admin().post("/admin/accounts/tenantssoconfig/add/", data)

    assert answer.status_code == 200
    assert_beside_each(answer.context["adminform"].form.errors, missing)
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(("typed", "missing"), CASES)
def test_the_service_names_each_missing_field(typed: dict[str, str], missing: list[str]) -> None:
    tenant, owner, _ = make_tenant(name="Acme")

    with pytest.raises(InvalidInput) as refused:
        sso.sso_config_save(tenant=tenant, actor=owner, values=typed)

    assert sorted(refused.value.details["fields"]) == sorted(missing)
