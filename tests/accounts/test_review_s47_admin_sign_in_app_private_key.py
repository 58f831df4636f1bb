"""SPEC §10 (the admin shows no secrets), §8 (SAML SSO): a private key pasted as a tenant's IdP
signing certificate before that was refused stays stored until the owner replaces it, and the
owner's page and the admin's SSO configuration page no longer show it. Found by review K (s47):
the tenant's sign-in app page in the admin (Social applications, ``tenant-…``, read-only) still
showed it, in its settings (``idp.x509cert``), to any operator who may view sign-in apps, as
soon as the configuration was saved again (the owner changing another setting)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from tests.accounts.saml_idp import SAMLIdP
from tests.accounts.test_review_s46_sso_certificate_every_channel import SAML
from tests.accounts.test_review_s47_stored_private_key_not_shown import browser_data, tenant_with_stored_private_key
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def test_the_tenants_sign_in_app_page_does_not_show_a_stored_private_key() -> None:
    tenant, owner, key = tenant_with_stored_private_key()
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    saved = browser.post(url, {**browser_data(browser.get(url).content.decode()), "default_role": "viewer"})
    assert saved.status_code == 302
    config = TenantSSOConfig.objects.get(tenant=tenant)
    app = SocialApp.objects.get(provider_id=config.provider_id)
    operator = superuser_in_admin()

    for page in (f"/admin/socialaccount/socialapp/{app.pk}/change/", "/admin/socialaccount/socialapp/"):
        response = operator.get(page)
        assert response.status_code == 200
        body = response.content.decode()
        assert "PRIVATE KEY" not in body, page
        assert key.splitlines()[1] not in body, page


def test_guard_the_page_still_shows_a_stored_certificate() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    cert = SAMLIdP().keys.cert_pem
    config = sso.sso_config_save(tenant=tenant, actor=owner, values={**SAML, "idp_x509_cert": cert})
    app = SocialApp.objects.get(provider_id=config.provider_id)
    body = superuser_in_admin().get(f"/admin/socialaccount/socialapp/{app.pk}/change/").content.decode()
    assert cert.strip().splitlines()[1] in body
