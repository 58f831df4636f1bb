"""Review s35: reprovisioning (active: true again, or a POST after a DELETE) starts fresh,
and a stale directory entry never blocks deprovisioning."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership
from tests.factories import UserFactory, add_member
from tests.scim.conftest import patch_op, provision

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_a_user_created_again_after_a_delete_starts_without_the_old_roles(acme):
    first = provision(acme, "mia@acme.test")["id"]
    mia = User.objects.get(email="mia@acme.test")
    org_services.org_member_set(organization=acme.orgs[0], user=mia, role="admin")  # by hand
    assert acme.scim.delete(f"/Users/{first}").status_code == 204
    assert not OrgMembership.objects.filter(user=mia).exists()
    again = provision(acme, "mia@acme.test")["id"]
    assert again != first
    # Okta/Entra: a re-created user starts fresh; roles come from the groups pushed to it.
    assert not OrgMembership.objects.filter(user=mia, organization__tenant=acme.tenant).exists()
    mia.refresh_from_db()
    assert mia.is_active  # the DELETE deactivated it; creating it again reactivates it


def test_a_user_reactivated_starts_fresh_and_the_audit_says_so(acme):
    """Okta assigns a user again with active: true: the groups decide, hand-given roles
    (here a tenant admin role and an org admin role) do not come back on their own."""
    user_id = provision(acme, "mia@acme.test")["id"]
    mia = User.objects.get(email="mia@acme.test")
    org_services.org_member_set(organization=acme.orgs[0], user=mia, role="admin")
    org_services.tenant_member_set(tenant=acme.tenant, user=mia, role="admin")
    off = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200
    on = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert on.status_code == 200 and on.json()["active"] is True
    mia.refresh_from_db()
    assert mia.is_active
    assert not OrgMembership.objects.filter(user=mia).exists()
    assert not mia.tenant_memberships.exists()
    entry = AuditEvent.objects.filter(action="scim_user.reactivated", target_id=user_id).get()
    assert "previous_roles_not_restored" in entry.changes["effects"]


@pytest.mark.parametrize("how", ["patch", "delete"])
def test_a_stale_entry_is_deprovisioned_idempotently(acme, how):
    """The person's membership ended by other means (an admin removed them): deprovisioning
    still succeeds."""
    user_id = provision(acme, "mia@acme.test")["id"]
    mia = User.objects.get(email="mia@acme.test")
    org_services.org_member_set(organization=acme.orgs[0], user=mia, role="member")
    org_services.org_member_set(organization=acme.orgs[0], user=mia, role=None)
    if how == "patch":
        r = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
        assert r.status_code == 200, r.content
        again = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
        assert again.status_code == 200, again.content
    else:
        assert acme.scim.delete(f"/Users/{user_id}").status_code == 204


@pytest.mark.parametrize("how", ["patch", "delete"])
def test_an_entry_whose_account_was_deleted_is_deprovisioned(acme, how):
    user_id = provision(acme, "mia@acme.test")["id"]
    User.objects.filter(email="mia@acme.test").delete()
    if how == "patch":
        r = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "path": "active", "value": False}))
        assert r.status_code == 200, r.content
    else:
        assert acme.scim.delete(f"/Users/{user_id}").status_code == 204


def test_a_listed_member_who_left_is_deprovisioned(acme):
    """The IdP read a member's id, the member left; its deprovisioning is a 404 (gone) or
    succeeds, never a 5xx."""
    add_member(acme.orgs[0], "member", UserFactory(email="mia@acme.test"))
    r = acme.scim.get("/Users", QUERY_STRING="filter=userName%20eq%20%22mia%40acme.test%22").json()
    user_id = r["Resources"][0]["id"]
    mia = User.objects.get(email="mia@acme.test")
    org_services.org_member_set(organization=acme.orgs[0], user=mia, role=None)
    r = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert r.status_code in (200, 404), r.content
