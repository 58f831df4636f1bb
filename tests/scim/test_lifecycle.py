"""Provisioning, deprovisioning and reprovisioning, end to end: accounts, sessions, API
keys, memberships through mapped groups, and the audit trail (channel ``scim``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import UserSession
from apikeys import services as key_services
from audit.models import AuditEvent
from orgs import policy
from orgs.models import OrgMembership, TenantMembership
from scim.models import ScimGroup, ScimUser
from scim.services import groups as group_services
from tests.factories import make_key
from tests.scim.conftest import Directory, new_user, patch_op, provision

pytestmark = pytest.mark.django_db

User = get_user_model()
VALIDATE = "/api/v1/auth/validate"


def group_with(d: Directory, name: str, *member_ids: str, org: Any = None, role: str = "member") -> dict[str, Any]:
    r = d.scim.post("/Groups", {"displayName": name, "members": [{"value": m} for m in member_ids]})
    assert r.status_code == 201, r.content
    if org is not None:
        group = ScimGroup.objects.get(public_id=r.json()["id"])
        group_services.scim_group_map(group=group, organization=org, role=role, actor=d.owner)
    return r.json()


def key_status(raw: str) -> tuple[int, str]:
    r = APIClient().get(VALIDATE, HTTP_X_API_KEY=raw)
    return r.status_code, r.json().get("error", "") or r.json().get("message", "")


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
    return client


def deactivate(d: Directory, user_id: str) -> Any:
    # Entra ID's shape: a capitalised op and the boolean as a string.
    return d.scim.patch(f"/Users/{user_id}", patch_op({"op": "Replace", "path": "active", "value": "False"}))


def test_provisioning_creates_the_account_in_a_verified_domain(acme):
    created = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    assert (account.first_name, account.last_name, account.is_active) == ("Ada", "Lovelace", True)
    assert not account.has_usable_password()  # signs in through the identity provider (or a reset)
    identity = ScimUser.objects.get(public_id=created["id"])
    assert identity.user == account and identity.tenant == acme.tenant
    # No role yet: groups grant them.
    assert not OrgMembership.objects.filter(user=account).exists()


def test_group_mapping_grants_and_takes_away_org_roles(acme):
    ada = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    org1, org2 = acme.orgs
    eng = group_with(acme, "Engineering", ada["id"], org=org1, role="member")
    assert OrgMembership.objects.get(user=account, organization=org1).role == "member"
    # The highest role of the groups mapping to one org wins.
    admins = group_with(acme, "Org admins", ada["id"], org=org1, role="admin")
    assert OrgMembership.objects.get(user=account, organization=org1).role == "admin"
    acme.scim.patch(
        f"/Groups/{admins['id']}", patch_op({"op": "Remove", "path": "members", "value": [{"value": ada["id"]}]})
    )
    assert OrgMembership.objects.get(user=account, organization=org1).role == "member"
    # A membership added by hand is never removed by SCIM.
    from orgs import services as org_services

    org_services.org_member_set(organization=org2, user=account, role="viewer")
    acme.scim.delete(f"/Groups/{eng['id']}")
    assert not OrgMembership.objects.filter(user=account, organization=org1).exists()
    assert OrgMembership.objects.get(user=account, organization=org2).role == "viewer"


def test_deprovisioning_ends_sessions_and_keys_on_the_very_next_request(acme):
    ada = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    org1 = acme.orgs[0]
    group_with(acme, "Engineering", ada["id"], org=org1)
    _, raw = make_key(user=account, tenant=acme.tenant, org=org1, name="ada's key")
    browser = signed_in(account)
    for _ in range(3):  # warm: the principal is memoized
        assert key_status(raw)[0] == 200
    assert UserSession.objects.filter(user=account).exists()

    r = deactivate(acme, ada["id"])
    assert r.status_code == 200 and r.json()["active"] is False

    assert key_status(raw) == (401, "UNAUTHORIZED")
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    account.refresh_from_db()
    assert not account.is_active
    assert not UserSession.objects.filter(user=account).exists()
    assert not Session.objects.filter(session_key__in=[browser.session.session_key]).exists()
    assert not OrgMembership.objects.filter(user=account).exists()
    # The SCIM User stays, inactive (Entra ID and Okta read it back).
    assert acme.scim.get(f"/Users/{ada['id']}").json()["active"] is False


def test_reprovisioning_restores_access_through_groups_but_not_revoked_keys(acme):
    ada = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    org1, org2 = acme.orgs
    group_with(acme, "Engineering", ada["id"], org=org1)
    from orgs import services as org_services

    org_services.org_member_set(organization=org2, user=account, role="admin")  # by hand
    kept, kept_raw = make_key(user=account, tenant=acme.tenant, org=org1, name="kept")
    doomed, doomed_raw = make_key(user=account, tenant=acme.tenant, org=org1, name="doomed")
    deactivate(acme, ada["id"])
    operator = policy.Actor(user=None, tenant_pk=acme.tenant.pk, operator=True)
    key_services.apikey_revoke(api_key=doomed, actor=operator)

    r = acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "value": {"active": True}}))  # Okta
    assert r.status_code == 200 and r.json()["active"] is True

    account.refresh_from_db()
    assert account.is_active
    assert OrgMembership.objects.get(user=account, organization=org1).role == "member"  # the group's
    # Reprovisioning starts fresh (review s35): a role given by hand is not given back.
    assert not OrgMembership.objects.filter(user=account, organization=org2).exists()
    assert key_status(kept_raw)[0] == 200
    assert key_status(doomed_raw) == (401, "KEY_REVOKED")


def test_delete_deprovisions_and_forgets_and_provisioning_again_relinks(acme):
    ada = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    group = group_with(acme, "Engineering", ada["id"], org=acme.orgs[0])
    _, raw = make_key(user=account, tenant=acme.tenant, org=acme.orgs[0])
    assert key_status(raw)[0] == 200

    assert acme.scim.delete(f"/Users/{ada['id']}").status_code == 204
    assert acme.scim.get(f"/Users/{ada['id']}").status_code == 404
    assert key_status(raw)[0] == 401
    account.refresh_from_db()
    assert not account.is_active
    assert "members" not in acme.scim.get(f"/Groups/{group['id']}").json()
    assert (
        acme.scim.get("/Users", QUERY_STRING="filter=userName%20eq%20%22ada@acme.test%22").json()["totalResults"] == 0
    )

    again = provision(acme, "ada@acme.test")
    assert again["id"] != ada["id"]
    account.refresh_from_db()
    assert account.is_active and ScimUser.objects.get(public_id=again["id"]).user == account
    assert User.objects.filter(email="ada@acme.test").count() == 1


def test_the_last_owner_cannot_be_deprovisioned(acme):
    listed = acme.scim.get("/Users", QUERY_STRING="filter=userName%20eq%20%22owner@acme.test%22").json()
    owner_id = listed["Resources"][0]["id"]
    r = deactivate(acme, owner_id)
    assert r.status_code == 409 and r.json()["status"] == "409"
    acme.owner.refresh_from_db()
    assert acme.owner.is_active
    assert TenantMembership.objects.filter(tenant=acme.tenant, user=acme.owner, role="owner").exists()
    assert acme.scim.get(f"/Users/{owner_id}").json()["active"] is True


def test_existing_members_are_found_not_duplicated(acme):
    """Entra ID and Okta look a person up by userName before creating them."""
    from tests.factories import add_member

    bob = add_member(acme.orgs[0], "member")
    found = acme.scim.get("/Users", QUERY_STRING=f"filter=userName%20eq%20%22{bob.email}%22").json()
    assert found["totalResults"] == 1
    bob_id = found["Resources"][0]["id"]
    r = acme.scim.patch(f"/Users/{bob_id}", patch_op({"op": "Add", "path": "externalId", "value": "entra-bob"}))
    assert r.json()["externalId"] == "entra-bob"
    assert acme.scim.post("/Users", new_user(bob.email)).status_code == 409


def test_every_scim_write_is_audited_with_the_scim_channel_and_the_token(acme):
    ada = provision(acme, "ada@acme.test")
    group = group_with(acme, "Engineering", ada["id"], org=acme.orgs[0])
    acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "displayName", "value": "Ada L"}))
    deactivate(acme, ada["id"])
    acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": True}))
    acme.scim.patch(f"/Groups/{group['id']}", patch_op({"op": "replace", "path": "displayName", "value": "Eng"}))
    acme.scim.delete(f"/Groups/{group['id']}")
    acme.scim.delete(f"/Users/{ada['id']}")
    scim_rows = AuditEvent.objects.filter(channel="scim").order_by("id")
    actions = list(scim_rows.values_list("action", flat=True))
    for action in (
        "scim_user.created",
        "scim_group.created",
        "scim_user.updated",
        "scim_user.deactivated",
        "scim_user.reactivated",
        "scim_group.updated",
        "scim_group.deleted",
        "scim_user.deleted",
        "member.removed",
        "member.added",
    ):
        assert action in actions, action
    assert set(scim_rows.values_list("api_key_id", flat=True)) == {acme.token.public_id}
    assert set(scim_rows.values_list("tenant_id", flat=True)) == {acme.tenant.pk}
    assert not scim_rows.exclude(actor_user__isnull=True).exists()  # the token acted, not a person
    deactivated = scim_rows.get(action="scim_user.deactivated")
    assert deactivated.changes["active"] == {"from": True, "to": False}
    assert "account_deactivated" in deactivated.changes["effects"]
    # The group mapping is the owner's act, in the owner's channel.
    mapped = AuditEvent.objects.get(action="scim_group.mapped")
    assert mapped.actor_user_id == acme.owner.pk and mapped.channel != "scim"
    # Reads write nothing.
    before = AuditEvent.objects.count()
    acme.scim.get("/Users")
    acme.scim.get("/Groups")
    assert AuditEvent.objects.count() == before


def test_a_put_without_active_does_not_reprovision(acme):
    ada = provision(acme, "ada@acme.test")
    deactivate(acme, ada["id"])
    body = new_user("ada@acme.test")
    del body["active"]
    r = acme.scim.put(f"/Users/{ada['id']}", body)
    assert r.status_code == 200 and r.json()["active"] is False
    assert not User.objects.get(email="ada@acme.test").is_active


def test_deprovisioning_a_guest_ends_their_roles_and_sessions_but_not_their_account(acme):
    """SPEC §8/§13: a guest (an address outside the tenant's verified domains, invited by
    hand, in no other tenant) is in the directory's listing, but their account is their
    own: deprovisioning ends their roles here, their sessions and their keys here, and
    leaves the account active so its owner can still sign in (to join another tenant)."""
    from tests.factories import PASSWORD, UserFactory, add_member

    guest = add_member(acme.orgs[0], "member", UserFactory(email="bob@freemail.test"))
    _, raw = make_key(user=guest, tenant=acme.tenant, org=acme.orgs[0], name="bob's key")
    browser = signed_in(guest)
    found = acme.scim.get('/Users?filter=userName eq "bob@freemail.test"').json()["Resources"]
    assert len(found) == 1, found

    r = deactivate(acme, found[0]["id"])
    assert r.status_code == 200 and r.json()["active"] is False

    guest.refresh_from_db()
    assert guest.is_active, "a tenant's directory switched off an account it does not speak for"
    assert key_status(raw) == (401, "UNAUTHORIZED")
    assert not OrgMembership.objects.filter(user=guest).exists()
    assert not UserSession.objects.filter(user=guest).exists()
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    assert Client().login(email="bob@freemail.test", password=PASSWORD)


def test_deprovisioning_never_switches_off_a_platform_operator(acme):
    """A staff account in the tenant's own domain: the directory ends its roles in the
    tenant and, as for every leaver, its sessions (SPEC §13), never the account itself:
    operators are the operators' to manage."""
    operator = provision(acme, "ops@acme.test")
    account = User.objects.get(email="ops@acme.test")
    account.is_staff = True
    account.save(update_fields=["is_staff"])
    browser = signed_in(account)

    r = deactivate(acme, operator["id"])
    assert r.status_code == 200 and r.json()["active"] is False
    account.refresh_from_db()
    assert account.is_active
    assert not UserSession.objects.filter(user=account).exists()
    assert browser.get("/api/v1/me/").status_code == 401
