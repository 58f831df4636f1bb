"""``/me`` leaves out the orgs of a tenant that requires SSO of its user when the session was not
signed in through that tenant's IdP; it must leave out the tenant too. A tenant owner or admin
(a tenant-level member) signed in through another tenant's IdP used to find the barred tenant,
its id, name and plan, in ``tenants`` while its orgs were gone (SPEC §8 "requires SSO", §1;
tests/accounts/test_review_s39_sso_other_tenant_idp.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import services as org_services
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import _signed_in, acme_idp, globex_idp, world

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "globex_idp", "world"]  # fixtures


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_an_acme_session_does_not_list_globex_among_its_tenants(
    world: dict[str, Any], acme_idp: OIDCProvider, role: str
) -> None:
    org_services.tenant_member_set(tenant=world["globex"], user=world["bob"], role=role)
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    me = client.get("/api/v1/me").json()
    assert [t["id"] for t in me["tenants"]] == [world["acme"].public_id]
    assert [o["id"] for o in me["organizations"]] == [world["acme_org"].public_id]
    listed = client.get("/api/v1/organizations/").json()["organizations"]
    assert [o["id"] for o in listed] == [world["acme_org"].public_id]


def test_a_globex_session_lists_globex(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    org_services.tenant_member_set(tenant=world["globex"], user=world["bob"], role="owner")
    world["bob"].email = "bob@globex.test"  # Globex's IdP signs in by the asserted address
    world["bob"].save(update_fields=["email"])
    client = Client()
    _signed_in(client, globex_idp, "bob@globex.test")
    me = client.get("/api/v1/me").json()
    assert {t["id"] for t in me["tenants"]} == {world["acme"].public_id, world["globex"].public_id}
