"""SPEC §8 / §5 (`GET me/`): each tenant's `require_sso` says whether the tenant requires SSO.
It showed the tenant row's own switch only, so a tenant whose SSO configuration has "Require
SSO" on (the settings page's switch) read `false` in /me, though its members' passwords are
refused and other sessions barred. It now reads the requirement as sign-in applies it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from accounts.models import TenantSSOConfig
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import make_key, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


def _require_sso(raw: str) -> bool:
    me = APIClient().get("/api/v1/me/", HTTP_X_API_KEY=raw).json()
    (tenant,) = me["tenants"]
    return tenant["require_sso"]


def test_me_reads_the_requirement_the_sign_in_applies(idp: OIDCProvider) -> None:
    tenant, owner, (org,) = make_tenant(name="Globex")
    _, raw = make_key(user=owner, tenant=tenant, org=org)
    assert _require_sso(raw) is False
    oidc_sso(tenant, owner, idp, require_sso=True)
    assert _require_sso(raw) is True
    TenantSSOConfig.objects.filter(tenant=tenant).update(is_active=False)  # SSO switched off
    assert _require_sso(raw) is False
