"""Review s47 (SPEC §8: SSO through SAML; §2 spirit: a secret is never sent back into a page): the
owner's SSO settings page says a private key is saved as the IdP signing certificate and is to be
replaced, and shows the box empty. Pasting the certificate there and saving answered "Changed by
someone else since this page was opened: it is now -----BEGIN PRIVATE KEY----- …": the refusal
printed the stored private key into the page (and its value-shown twin), and the certificate was
not saved. The page showed the box empty, so empty is what it showed: replacing it saves."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from tests.accounts.saml_idp import make_keypair
from tests.accounts.test_review_s46_sso_certificate_every_channel import private_key_pem
from tests.accounts.test_review_s47_certificate_change_not_refused import SAML, as_a_browser_posts, sso_subject
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def stored_private_key() -> tuple[Any, Any, str]:
    tenant, owner, _ = make_tenant(name="Acme")
    sso.sso_config_save(tenant=tenant, actor=None, values={**SAML, "idp_x509_cert": make_keypair().cert_pem})
    key = private_key_pem()
    TenantSSOConfig.objects.filter(tenant=tenant).update(idp_x509_cert=key)  # stored before the check
    return tenant, owner, key


def test_the_owner_replaces_a_stored_private_key_with_the_certificate() -> None:
    tenant, owner, key = stored_private_key()
    tab = Client()
    tab.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = as_a_browser_posts(tab.get(url).content.decode())

    answer = tab.post(url, {**data, "idp_x509_cert": make_keypair("idp2.acme.test").cert_pem})

    body = answer.content.decode()
    assert "PRIVATE KEY" not in body and key.splitlines()[1] not in body
    assert answer.status_code == 302
    assert sso_subject(TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert) == "CN=idp2.acme.test"


def test_the_operator_replaces_a_stored_private_key_with_the_certificate() -> None:
    tenant, _owner, key = stored_private_key()
    config = TenantSSOConfig.objects.get(tenant=tenant)
    operator = superuser_in_admin()
    url = f"/admin/accounts/tenantssoconfig/{config.pk}/change/"
    data = as_a_browser_posts(operator.get(url).content.decode())

    answer = operator.post(url, {**data, "idp_x509_cert": make_keypair("idp3.acme.test").cert_pem})

    body = answer.content.decode()
    assert "PRIVATE KEY" not in body and key.splitlines()[1] not in body
    assert answer.status_code == 302
    assert sso_subject(TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert) == "CN=idp3.acme.test"
