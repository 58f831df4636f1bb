"""Review s47 (SPEC §10: operators' Django admin; §8 SAML): for a private key stored as the IdP
signing certificate before the check refused it, the admin's "Saved signing certificate" said
"Cannot be read as a certificate", as for a truncated copy, while the owner's page says a private
key is saved and is to be replaced. An operator reading the admin learnt nothing of the secret
sitting there, nor what to do; it now says so, never showing the key."""

from __future__ import annotations

import html

import pytest

from accounts.models import TenantSSOConfig
from tests.accounts.test_review_s47_private_key_replaced import stored_private_key
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def test_the_admin_says_a_private_key_is_stored_and_to_be_replaced() -> None:
    tenant, _owner, key = stored_private_key()
    config = TenantSSOConfig.objects.get(tenant=tenant)

    body = html.unescape(
        superuser_in_admin().get(f"/admin/accounts/tenantssoconfig/{config.pk}/change/").content.decode()
    )

    assert "Cannot be read as a certificate" not in body
    assert "a private key" in body.lower() and "replace" in body.lower()
    assert "PRIVATE KEY-----" not in body and key.splitlines()[1] not in body
