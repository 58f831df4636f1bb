"""Review s35: what becomes of a person's API keys when they leave an org or a tenant.

SPEC §2: "demoting or removing the owner narrows or kills the key". Until this review
removal only made the keys refused while their owner was out (effective permissions are
read on every request): re-added later (directly, by invitation, by a SCIM group push), the
same person found their old keys working again, leaked or not meanwhile. Decision (docs/
authorization.md, "Removal kills"): removing a person from an org revokes their keys bound
to it, on every channel; losing their tenant role revokes their unbound keys and their keys
of the orgs they no longer belong to. Each is an ``api_key.revoked`` entry (reason ``owner
removed``). Demotion narrows and a deactivation (or SCIM ``active: false``) suspends: no
key is revoked, and reactivation gives the keys back.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership, TenantMembership
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.scim.conftest import (
    acme,  # noqa: F401 (a SCIM directory of tenant Acme)
    patch_op,
)
from tests.scim.test_lifecycle import deactivate, group_with, provision

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"


def status(raw: str) -> tuple[int, str]:
    r = APIClient().get(VALIDATE, HTTP_X_API_KEY=raw)
    return r.status_code, r.json().get("error", "")


def member_url(org: Any, user: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/{user.public_id}/"


def revoked_for_departure(key: Any) -> AuditEvent:
    key.refresh_from_db()
    assert key.revoked_at is not None, "the key outlived its owner's membership"
    entry = AuditEvent.objects.get(action="api_key.revoked", target_id=key.public_id)
    assert entry.changes["reason"] == "owner removed"
    return entry


# --- Removal kills, re-adding does not revive -------------------------------------------------


def test_api_removal_revokes_the_members_keys_and_re_adding_them_does_not_revive_them(api, world):
    member, org1, key, raw = world["member"], world["org1"], world["member_key"], world["member_raw"]
    for _ in range(3):  # memoized
        assert status(raw)[0] == 200
    assert api.delete(member_url(org1, member), HTTP_X_API_KEY=world["owner_raw"]).status_code == 204
    assert status(raw) == (401, "KEY_REVOKED")
    entry = revoked_for_departure(key)
    assert entry.actor_user_id == world["owner"].pk and entry.channel == "api"

    r = api.post(
        f"/api/v1/organizations/{org1.public_id}/members/",
        {"email": member.email, "role": "member"},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 201 and r.json()["result"] == "added"
    assert status(raw) == (401, "KEY_REVOKED"), "the removed member's old key works again"


def test_ui_removal_revokes_the_members_keys(world):
    owner, member, org1 = world["owner"], world["member"], world["org1"]
    browser = Client()
    browser.force_login(owner)
    r = browser.post(f"/members/{member.pk}/remove/?organizationId={org1.public_id}")
    assert r.status_code == 302, r.status_code
    assert status(world["member_raw"]) == (401, "KEY_REVOKED")
    assert revoked_for_departure(world["member_key"]).channel == "ui"
    org_services.org_member_set(organization=org1, user=member, role="member")
    assert status(world["member_raw"]) == (401, "KEY_REVOKED")


def test_removal_from_one_org_leaves_the_keys_of_the_others(world):
    tenant, org1, org2, member = world["tenant"], world["org1"], world["org2"], world["member"]
    add_member(org2, "member", user=member)
    other, other_raw = make_key(user=member, tenant=tenant, org=org2, name="org2 key")
    org_services.org_member_set(organization=org1, user=member, role=None)
    assert status(world["member_raw"]) == (401, "KEY_REVOKED")
    assert status(other_raw)[0] == 200
    other.refresh_from_db()
    assert other.revoked_at is None


def test_removing_a_tenant_owner_revokes_their_unbound_keys_and_those_of_orgs_they_reached(api, world):
    tenant, org1, org2 = world["tenant"], world["org1"], world["org2"]
    co_owner = add_member(org1, "admin")
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    unbound, unbound_raw = make_key(user=co_owner, tenant=tenant, org=None, name="unbound")
    in_org1, org1_raw = make_key(user=co_owner, tenant=tenant, org=org1, name="org1")
    in_org2, org2_raw = make_key(user=co_owner, tenant=tenant, org=org2, name="org2 (through the tenant role)")
    assert status(unbound_raw)[0] == 200

    api.force_login(world["owner"])
    assert api.delete(member_url(org1, co_owner)).status_code == 204
    for key, raw in ((unbound, unbound_raw), (in_org1, org1_raw), (in_org2, org2_raw)):
        assert status(raw) == (401, "KEY_REVOKED")
        revoked_for_departure(key)

    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    assert status(unbound_raw) == (401, "KEY_REVOKED")


def test_dropping_a_tenant_role_in_the_admin_keeps_the_keys_of_orgs_still_held():
    tenant, owner, (org1, org2) = make_tenant(name="Acme", orgs=2)
    co_owner = add_member(org1, "member")
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    unbound, unbound_raw = make_key(user=co_owner, tenant=tenant, org=None, name="unbound")
    kept, kept_raw = make_key(user=co_owner, tenant=tenant, org=org1, name="org1", scopes=["scans:read"])
    in_org2, org2_raw = make_key(user=co_owner, tenant=tenant, org=org2, name="org2")
    membership = TenantMembership.objects.get(tenant=tenant, user=co_owner)
    admin = superuser_in_admin()
    r = admin.post(f"/admin/orgs/tenantmembership/{membership.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.status_code
    assert status(unbound_raw) == (401, "KEY_REVOKED")
    assert status(org2_raw) == (401, "KEY_REVOKED")
    assert status(kept_raw)[0] == 200  # still a member of org1
    entry = revoked_for_departure(unbound)
    assert entry.channel == "admin"
    revoked_for_departure(in_org2)


def test_dropping_an_org_membership_keeps_the_keys_a_tenant_role_still_reaches():
    tenant, owner, (org1,) = make_tenant(name="Acme")
    tenant_admin = add_member(org1, "member")
    org_services.tenant_member_set(tenant=tenant, user=tenant_admin, role="admin")
    _, raw = make_key(user=tenant_admin, tenant=tenant, org=org1)
    org_services.org_member_set(organization=org1, user=tenant_admin, role=None)
    assert status(raw)[0] == 200


def test_removing_a_member_in_the_admin_revokes_their_keys():
    tenant, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member")
    key, raw = make_key(user=person, tenant=tenant, org=org)
    membership = OrgMembership.objects.get(user=person, organization=org)
    admin = superuser_in_admin()
    r = admin.post(f"/admin/orgs/orgmembership/{membership.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.status_code
    assert status(raw) == (401, "KEY_REVOKED")
    assert revoked_for_departure(key).channel == "admin"


def test_deleting_an_account_records_the_revocation_of_its_keys():
    # What the admin's user delete page runs (it refuses an account owning keys today: they
    # are not deletable in the admin, revoked instead).
    from accounts.services import user_deleted_by_operator

    tenant, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member")
    key, _ = make_key(user=person, tenant=tenant, org=org)
    key_id = key.public_id
    user_deleted_by_operator(user=person)
    person.delete()
    entry = AuditEvent.objects.get(action="api_key.revoked", target_id=key_id)
    assert entry.changes["reason"] == "owner removed"


# --- Demotion and deactivation do not revoke -------------------------------------------------


def test_demotion_narrows_and_promotion_gives_the_key_back(api, world):
    member, org1, raw = world["member"], world["org1"], world["member_raw"]
    upload = {"scanner": "x", "target": "y", "started_at": "2026-01-01T00:00:00Z"}
    r = api.patch(member_url(org1, member), {"role": "viewer"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200
    assert api.post("/api/scans/upload", upload, format="json", HTTP_X_API_KEY=raw).status_code == 403
    r = api.patch(member_url(org1, member), {"role": "member"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200
    assert api.post("/api/scans/upload", upload, format="json", HTTP_X_API_KEY=raw).status_code == 201
    assert not AuditEvent.objects.filter(action="api_key.revoked").exists()


def test_deactivating_an_account_suspends_its_keys_without_revoking_them(world):
    member, raw = world["member"], world["member_raw"]
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert status(raw)[0] == 401
    member.is_active = True
    member.save(update_fields=["is_active"])
    assert status(raw)[0] == 200


# --- SCIM ------------------------------------------------------------------------------------


def test_scim_group_removal_revokes_and_a_new_push_does_not_revive(acme):  # noqa: F811
    ada = provision(acme, "ada@acme.test")
    account = ada_account()
    org1 = acme.orgs[0]
    group = group_with(acme, "Engineering", ada["id"], org=org1)
    key, raw = make_key(user=account, tenant=acme.tenant, org=org1)
    assert status(raw)[0] == 200
    remove = patch_op({"op": "Remove", "path": "members", "value": [{"value": ada["id"]}]})
    assert acme.scim.patch(f"/Groups/{group['id']}", remove).status_code == 200
    assert not OrgMembership.objects.filter(user=account, organization=org1).exists()
    assert status(raw) == (401, "KEY_REVOKED")
    assert revoked_for_departure(key).channel == "scim"
    add = patch_op({"op": "Add", "path": "members", "value": [{"value": ada["id"]}]})
    assert acme.scim.patch(f"/Groups/{group['id']}", add).status_code == 200
    assert OrgMembership.objects.filter(user=account, organization=org1).exists()
    assert status(raw) == (401, "KEY_REVOKED")


def test_scim_delete_after_a_suspension_revokes_what_the_suspension_kept(acme):  # noqa: F811
    ada = provision(acme, "ada@acme.test")
    account = ada_account()
    org1 = acme.orgs[0]
    group_with(acme, "Engineering", ada["id"], org=org1)
    key, raw = make_key(user=account, tenant=acme.tenant, org=org1)
    assert deactivate(acme, ada["id"]).status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is None  # suspended: reprovisioning gives it back
    assert acme.scim.delete(f"/Users/{ada['id']}").status_code == 204
    revoked_for_departure(key)
    # Provisioned again, and pushed into the group again: the old key stays dead.
    again = provision(acme, "ada@acme.test")
    group_with(acme, "Engineering again", again["id"], org=org1)
    assert OrgMembership.objects.filter(user=account, organization=org1).exists()
    assert status(raw) == (401, "KEY_REVOKED")


def test_scim_delete_of_an_active_user_revokes_their_keys(acme):  # noqa: F811
    ada = provision(acme, "ada@acme.test")
    account = ada_account()
    group_with(acme, "Engineering", ada["id"], org=acme.orgs[0])
    key, raw = make_key(user=account, tenant=acme.tenant, org=acme.orgs[0])
    assert acme.scim.delete(f"/Users/{ada['id']}").status_code == 204
    revoked_for_departure(key)


def ada_account() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(email="ada@acme.test")


def test_guard_a_key_of_another_tenant_survives_leaving_this_one():
    tenant, _, (org,) = make_tenant(name="Acme")
    other, _, (other_org,) = make_tenant(name="Globex")
    person = add_member(org, "member", user=UserFactory())
    add_member(other_org, "member", user=person)
    _, raw = make_key(user=person, tenant=other, org=other_org)
    org_services.org_member_set(organization=org, user=person, role=None)
    assert status(raw)[0] == 200
