"""Review s48 (M): a tenant's "require 2FA" governs the sessions that reach it, not a session it
bars.

Bob belongs to Acme (acme.test, its own IdP, no policy) and to Globex, which requires single
sign-on of him (he holds bob@globex.test, verified, in Globex's verified domain) and 2FA. Bob,
without a second factor, signs in through Acme's IdP: that session may not reach Globex (README
"'SSO required' is met only through the tenant's own IdP": Globex's orgs are left out, naming one
is a 403). Globex's 2FA policy therefore has nothing to guard in it, and Acme asked for nothing:
the session reaches Acme (SPEC §1: each tenant's policies are its own; SPEC §8: a tenant policy
requires 2FA "for its members"; `/me`: "a session [meets] every tenant's [policy] it reaches").
Before, every Acme page sent him to enrolment and every Acme API call answered 403
`MFA_REQUIRED` "Your tenant requires two-factor authentication", while `/me` listed only Acme,
which requires none. Signed in through Globex's IdP, the session reaches Globex and its policy
holds there as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs.models import Tenant
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import bob_in_two_sso_tenants
from tests.accounts.test_sso_oidc import sso_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme_idp: OIDCProvider, globex_idp: OIDCProvider) -> dict[str, Any]:
    two = bob_in_two_sso_tenants(acme_idp, globex_idp)
    Tenant.objects.filter(pk=two["globex"].pk).update(require_2fa=True)
    return two


def _signed_in(idp: OIDCProvider, email: str) -> Client:
    client = Client()
    done = sso_sign_in(client, idp, email, sub=f"sub-{email}")
    assert done.status_code == 302, done.content[:800]
    return client


def test_a_session_globex_bars_reaches_acme_without_globexs_second_factor(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    client = _signed_in(acme_idp, "bob@acme.test")
    keys = client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=world["acme_org"].public_id)
    assert keys.status_code == 200, keys.content
    page = client.get("/keys/", {"organizationId": world["acme_org"].public_id})
    assert page.status_code == 200, page.get("Location")
    me = client.get("/api/v1/me").json()
    assert [t["name"] for t in me["tenants"]] == ["Acme"]
    assert me["mfa_required"] is False
    # Globex stays out of reach, for its single sign-on (not a 2FA prompt).
    refused = client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=world["globex_org"].public_id)
    assert refused.status_code == 403 and refused.json()["error"] == "WORKSPACE_ACCESS_DENIED"


def test_signed_in_through_globex_its_2fa_policy_holds(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    client = _signed_in(globex_idp, "bob@globex.test")
    for org in (world["acme_org"], world["globex_org"]):
        answer = client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=org.public_id)
        assert answer.status_code == 403 and answer.json()["error"] == "MFA_REQUIRED", answer.content
    page = client.get("/keys/", {"organizationId": world["acme_org"].public_id})
    assert page.status_code == 302 and page["Location"].startswith("/accounts/2fa/")
    assert client.get("/api/v1/me").json()["mfa_required"] is True
