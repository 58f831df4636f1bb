"""Review s47 (SPEC §8: SSO through SAML; §2 spirit: a secret is shown exactly once, never sent
back into a page): the settings page and the Django admin refuse a private key pasted as the IdP
signing certificate, but one stored before that check (an older release, a direct database fix)
was rendered back into the certificate box, and into its hidden "value shown" twin, on every
visit of the owner's page and the admin's change page. Neither shows it now; the owner's page says
that what is stored is a private key to replace, and other settings still save beside it."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from tests.accounts.saml_idp import SAMLIdP
from tests.accounts.test_review_s46_sso_certificate_every_channel import SAML, private_key_pem
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def tenant_with_stored_private_key() -> tuple[Any, Any, str]:
    tenant, owner, _ = make_tenant(name="Acme")
    sso.sso_config_save(tenant=tenant, actor=owner, values={**SAML, "idp_x509_cert": SAMLIdP().keys.cert_pem})
    key = private_key_pem()
    TenantSSOConfig.objects.filter(tenant=tenant).update(idp_x509_cert=key)  # stored before the check
    return tenant, owner, key


def browser_data(body: str) -> dict[str, str]:
    """What a browser posts from the page's settings form, textareas included."""
    data = _Form(body, "").data
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.DOTALL):
        data[name] = html.unescape(value).lstrip("\n")
    return data


def test_the_owners_page_does_not_show_a_stored_private_key_and_says_to_replace_it() -> None:
    tenant, owner, key = tenant_with_stored_private_key()
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"

    body = browser.get(url).content.decode()

    assert "PRIVATE KEY" not in body
    assert key.splitlines()[1] not in body
    assert "private key" in html.unescape(body).lower()

    # Saving another setting from that page saves it, and still shows nothing of the key.
    saved = browser.post(url, {**browser_data(body), "default_role": "viewer"})
    assert saved.status_code == 302, saved.content.decode()
    assert TenantSSOConfig.objects.get(tenant=tenant).default_role == "viewer"
    again = browser.get(url).content.decode()
    assert "PRIVATE KEY" not in again and key.splitlines()[1] not in again


def test_a_page_sent_back_with_an_error_does_not_show_it_either() -> None:
    tenant, owner, key = tenant_with_stored_private_key()
    browser = Client()
    browser.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    data = {**browser_data(browser.get(url).content.decode()), "idp_sso_url": "not a url at all"}

    refused = browser.post(url, data)

    assert refused.status_code == 400
    assert "PRIVATE KEY" not in refused.content.decode()
    assert key.splitlines()[1] not in refused.content.decode()


def test_the_admin_change_page_does_not_show_a_stored_private_key() -> None:
    tenant, _owner, key = tenant_with_stored_private_key()
    config = TenantSSOConfig.objects.get(tenant=tenant)

    body = superuser_in_admin().get(f"/admin/accounts/tenantssoconfig/{config.pk}/change/").content.decode()

    assert "PRIVATE KEY" not in body
    assert key.splitlines()[1] not in body
