"""The tenant SSO settings page names its tenant (``?tenant=``) rather than going through the
session's org: a session barred from a tenant that requires SSO (signed in through another
tenant's IdP) must not reach that tenant's SSO settings either, or its owner could switch the
requirement off from outside it (SPEC §8; tests/accounts/test_review_s39_sso_other_tenant_idp.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import TenantSSOConfig
from orgs import services as org_services
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import _signed_in, acme_idp, globex_idp, world

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "globex_idp", "world"]  # fixtures


def test_globex_sso_settings_are_out_of_an_acme_sessions_reach(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    org_services.tenant_member_set(tenant=world["globex"], user=world["bob"], role="owner")
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    page = client.get("/accounts/sso/", {"tenant": world["globex"].public_id})
    assert page.status_code == 403
    assert "single sign-on" in page.content.decode()
    client.post("/accounts/sso/", {"tenant": world["globex"].public_id, "require_sso": ""})
    assert TenantSSOConfig.objects.get(tenant=world["globex"]).require_sso
