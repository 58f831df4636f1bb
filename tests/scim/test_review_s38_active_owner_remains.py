"""The last owner of a tenant cannot be deprovisioned (docs/scim.md: 409, make someone else
owner first), because a tenant with no owner has nobody left to change its plan, policies
and SSO (SPEC §1). An owner whose account an operator had deactivated still counted as "an
owner left": the identity provider deprovisioned the only owner who could sign in, and the
tenant was left to nobody. Only an active account counts; an inactive owner may still be
removed while an active one remains."""

from __future__ import annotations

import pytest

from orgs import services as org_services
from orgs.models import TenantMembership
from tests.factories import UserFactory
from tests.scim.conftest import patch_op

pytestmark = pytest.mark.django_db


def _scim_id(acme, email: str) -> str:
    listed = acme.scim.get("/Users", QUERY_STRING=f"filter=userName%20eq%20%22{email}%22").json()
    return listed["Resources"][0]["id"]


def _dormant_co_owner(acme):
    co_owner = UserFactory(email="former-cto@acme.test")
    org_services.tenant_member_set(tenant=acme.tenant, user=co_owner, role="owner")
    co_owner.is_active = False  # an operator deactivated the account
    co_owner.save(update_fields=["is_active"])
    return co_owner


def test_the_only_owner_who_can_sign_in_is_not_deprovisioned(acme):
    _dormant_co_owner(acme)
    owner_id = _scim_id(acme, "owner@acme.test")
    r = acme.scim.patch(f"/Users/{owner_id}", patch_op({"op": "Replace", "path": "active", "value": "False"}))
    assert r.status_code == 409, r.content
    acme.owner.refresh_from_db()
    assert acme.owner.is_active
    assert TenantMembership.objects.filter(tenant=acme.tenant, user=acme.owner, role="owner").exists()


def test_a_dormant_owner_may_still_be_removed_while_an_active_one_remains(acme):
    co_owner = _dormant_co_owner(acme)
    org_services.tenant_member_set(tenant=acme.tenant, user=co_owner, role=None, actor=acme.owner)
    assert not TenantMembership.objects.filter(tenant=acme.tenant, user=co_owner).exists()
