"""Review s43 (A): the domain owner let the person go, and the last tenant holding them removes
them by hand (members API, members page, admin) instead of through its directory.

Sam (sam@acme.test: Acme has verified acme.test) is provisioned by Acme and is a guest at
Initech, which has no SCIM directory (its admin adds and removes people by hand). Acme's
directory lets him go while Initech holds him: the account stays on. When Initech's admin
then removes him, nobody holds him any more: Acme's deprovisioning takes effect, as when the
last tenant's directory lets him go (tests/scim/test_review_s42_domain_owner_let_go.py):
the account is deactivated, its sessions end, the removing tenant's log says so, and only
Acme's reprovisioning turns it on again (SPEC §8: the tenant whose verified domain holds the
address speaks for it; §13: deprovisioning ends the user's sessions and their keys stop
working). Before: the account stayed active, although its employer let it go.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.models import UserSession
from audit.models import AuditEvent
from orgs import members
from orgs import services as org_services
from orgs.models import OrgMembership
from scim.models import ScimUser
from tests.factories import UserFactory, make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.scim.conftest import Directory, patch_op, provision
from tests.scim.test_lifecycle import group_with, key_status, signed_in

pytestmark = pytest.mark.django_db

User = get_user_model()


def off(directory: Directory, user_id: str) -> None:
    r = directory.scim.patch(f"/Users/{user_id}", patch_op({"op": "Replace", "path": "active", "value": "False"}))
    assert r.status_code == 200, r.content


def on(directory: Directory, user_id: str) -> None:
    r = directory.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert r.status_code == 200, r.content


@pytest.fixture
def initech(db: Any) -> Any:
    """A tenant without a SCIM directory: its people are added and removed by hand."""
    tenant, owner, orgs = make_tenant(name="Initech", owner=UserFactory(email="owner@initech.test"), orgs=1)
    return tenant, owner, orgs[0]


@pytest.fixture
def sam(acme: Directory, initech: Any) -> dict[str, Any]:
    acme_id = provision(acme, "sam@acme.test")["id"]
    user = User.objects.get(email="sam@acme.test")
    group_with(acme, "Eng", acme_id, org=acme.orgs[0], role="member")
    org_services.org_member_set(organization=initech[2], user=user, role="member")
    return {"user": user, "acme": acme_id}


def _remove_through_the_api(initech: Any, user: Any) -> None:
    api = APIClient()
    api.force_login(initech[1])
    r = api.delete(f"/api/v1/organizations/{initech[2].public_id}/members/{user.public_id}/")
    assert r.status_code == 204, r.content


def test_the_guest_tenants_hand_removal_deactivates_the_account_the_domain_owner_let_go(acme, initech, sam):
    user = sam["user"]
    browser = signed_in(user)
    off(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active  # Initech still holds him
    _remove_through_the_api(initech, user)
    user.refresh_from_db()
    assert not user.is_active, "Acme let sam@acme.test go, and now nobody holds him"
    assert not UserSession.objects.filter(user=user).exists()
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    entry = AuditEvent.objects.filter(action="user.deactivated", tenant=initech[0]).latest("id")
    assert entry.actor_user_id == initech[1].pk
    assert entry.changes["is_active"] == {"from": True, "to": False}
    assert "account_deactivated" in entry.changes["effects"]
    # Only Acme's reprovisioning turns it back on.
    on(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active


def test_a_removal_on_the_members_page_or_in_the_admin_counts_too(acme, initech, sam):
    user = sam["user"]
    tenant, owner, org = initech
    org_services.tenant_member_set(tenant=tenant, user=user, role="admin")
    off(acme, sam["acme"])
    members.member_remove(organization=org, user=user, actor=owner)  # the members page's service
    user.refresh_from_db()
    assert not user.is_active
    assert AuditEvent.objects.filter(action="user.deactivated", tenant=tenant).count() == 1


def test_a_removal_in_the_admin_counts_too(acme, initech, sam):
    user = sam["user"]
    off(acme, sam["acme"])
    membership = OrgMembership.objects.get(organization=initech[2], user=user)
    r = superuser_in_admin().post(f"/admin/orgs/orgmembership/{membership.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.status_code
    user.refresh_from_db()
    assert not user.is_active


def test_a_delete_by_the_domain_owner_counts_too_and_the_guest_tenants_keys_stop(acme, initech, sam):
    user = sam["user"]
    _, raw = make_key(user=user, tenant=acme.tenant, org=acme.orgs[0])
    assert acme.scim.delete(f"/Users/{sam['acme']}").status_code == 204
    _remove_through_the_api(initech, user)
    user.refresh_from_db()
    assert not user.is_active
    assert key_status(raw)[0] == 401
    provision(acme, "sam@acme.test")  # Acme provisioning him again gives the account back
    user.refresh_from_db()
    assert user.is_active


def test_a_tenant_still_holding_him_keeps_the_account_on(acme, initech, sam):
    user = sam["user"]
    hooli, _, (hooli_org,) = make_tenant(name="Hooli")
    org_services.org_member_set(organization=hooli_org, user=user, role="viewer")
    signed_in(user)
    off(acme, sam["acme"])
    _remove_through_the_api(initech, user)
    user.refresh_from_db()
    assert user.is_active and UserSession.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="user.deactivated").exists()
    # Hooli's removal is the last: now the account goes.
    org_services.org_member_set(organization=hooli_org, user=user, role=None)
    user.refresh_from_db()
    assert not user.is_active
    assert AuditEvent.objects.filter(action="user.deactivated", tenant=hooli).count() == 1


def test_the_domain_owner_still_holding_him_is_not_overruled(acme, initech, sam):
    user = sam["user"]
    signed_in(user)
    _remove_through_the_api(initech, user)
    user.refresh_from_db()
    assert user.is_active and UserSession.objects.filter(user=user).exists()


def test_a_guest_tenants_directory_still_assigning_him_holds_him(acme, globex, initech, sam):
    """Globex lists its members in its directory: its admin's removal by hand leaves the User as
    the IdP set it (docs/scim.md §5), and that User holds the account until the IdP lets go."""
    user = sam["user"]
    org_services.org_member_set(organization=globex.orgs[0], user=user, role="member")
    globex_id = ScimUser.objects.get(tenant=globex.tenant, user=user).public_id
    off(acme, sam["acme"])
    members.member_remove(organization=globex.orgs[0], user=user, actor=globex.owner)
    _remove_through_the_api(initech, user)
    user.refresh_from_db()
    assert user.is_active, "Globex's IdP still assigns him"
    off(globex, globex_id)
    user.refresh_from_db()
    assert not user.is_active


def test_a_guest_whose_domain_nobody_let_go_keeps_the_account(acme, initech):
    """bob@freemail.test: no tenant speaks for his address, a removal by hand leaves it his."""
    bob = User.objects.create_user(email="bob@freemail.test")
    org_services.org_member_set(organization=acme.orgs[0], user=bob, role="member")
    org_services.org_member_set(organization=initech[2], user=bob, role="member")
    off(acme, ScimUser.objects.get(tenant=acme.tenant, user=bob).public_id)
    _remove_through_the_api(initech, bob)
    bob.refresh_from_db()
    assert bob.is_active


def test_a_platform_operators_account_is_signed_out_not_deactivated(acme, initech, sam):
    user = sam["user"]
    User.objects.filter(pk=user.pk).update(is_staff=True)
    signed_in(user)
    off(acme, sam["acme"])
    _remove_through_the_api(initech, user)
    user.refresh_from_db()
    assert user.is_active
    assert not UserSession.objects.filter(user=user).exists()
