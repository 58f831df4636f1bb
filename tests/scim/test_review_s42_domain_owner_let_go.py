"""Sam (sam@acme.test: Acme has verified acme.test) is provisioned by Acme and is a guest at
Globex. When both identity providers let him go, the result must not depend on which one
was last (SPEC §13: deprovisioning ends the user's sessions and their keys stop working;
SPEC §8: the tenant whose verified domain holds the address speaks for it).

Acme deprovisioning last switches the account off (test_review_s41). Acme deprovisioning
first cannot (Globex still holds him); when Globex's directory then lets him go too, Acme's
deprovisioning takes effect: the account is deactivated, as if Acme had been last. Only
Acme's reprovisioning turns it back on; Globex's, a tenant that does not speak for
acme.test, does not (review s42)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts.models import UserSession
from audit.models import AuditEvent
from orgs import services as org_services
from scim.models import ScimUser
from tests.scim.conftest import patch_op, provision
from tests.scim.test_lifecycle import group_with, signed_in

pytestmark = pytest.mark.django_db

User = get_user_model()


def off(directory: Any, user_id: str) -> None:
    r = directory.scim.patch(f"/Users/{user_id}", patch_op({"op": "Replace", "path": "active", "value": "False"}))
    assert r.status_code == 200, r.content


def on(directory: Any, user_id: str) -> None:
    r = directory.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert r.status_code == 200, r.content


@pytest.fixture
def sam(acme, globex) -> dict[str, Any]:
    acme_id = provision(acme, "sam@acme.test")["id"]
    user = User.objects.get(email="sam@acme.test")
    group_with(acme, "Eng", acme_id, org=acme.orgs[0], role="member")
    org_services.org_member_set(organization=globex.orgs[0], user=user, role="member")
    globex_id = ScimUser.objects.get(tenant=globex.tenant, user=user).public_id
    return {"user": user, "acme": acme_id, "globex": globex_id}


def test_the_domain_owner_first_then_the_guest_tenant_deactivates_the_account(acme, globex, sam):
    user = sam["user"]
    browser = signed_in(user)
    off(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active  # Globex still holds him
    off(globex, sam["globex"])
    user.refresh_from_db()
    assert not user.is_active, "Acme let sam@acme.test go, and now nobody holds him"
    assert not UserSession.objects.filter(user=user).exists()
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    entry = AuditEvent.objects.filter(action="scim_user.deactivated", tenant=globex.tenant).latest("id")
    assert "account_deactivated" in entry.changes["effects"]


def test_only_the_domain_owner_reactivates_it(acme, globex, sam):
    user = sam["user"]
    off(acme, sam["acme"])
    off(globex, sam["globex"])
    on(globex, sam["globex"])  # the guest tenant wants him back: not its account to turn on
    user.refresh_from_db()
    assert not user.is_active
    entry = AuditEvent.objects.filter(action="scim_user.reactivated", tenant=globex.tenant).latest("id")
    assert "account_kept_inactive" in entry.changes["effects"]
    on(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active


def test_a_delete_by_the_domain_owner_counts_too(acme, globex, sam):
    user = sam["user"]
    assert acme.scim.delete(f"/Users/{sam['acme']}").status_code == 204
    off(globex, sam["globex"])
    user.refresh_from_db()
    assert not user.is_active
    # Acme provisioning him again gives the account back, as after its own last DELETE.
    provision(acme, "sam@acme.test")
    user.refresh_from_db()
    assert user.is_active


def test_a_guest_nobody_let_go_keeps_the_account(acme, globex):
    """bob@freemail.test, a guest in both, whose domain no tenant verified: the account is his."""
    bob = User.objects.create_user(email="bob@freemail.test")
    org_services.org_member_set(organization=acme.orgs[0], user=bob, role="member")
    org_services.org_member_set(organization=globex.orgs[0], user=bob, role="member")
    for directory in (acme, globex):
        off(directory, ScimUser.objects.get(tenant=directory.tenant, user=bob).public_id)
    bob.refresh_from_db()
    assert bob.is_active
    assert not UserSession.objects.filter(user=bob).exists()


def test_the_domain_owner_still_holding_him_is_not_overruled(acme, globex, sam):
    """Globex letting him go while Acme still has him active changes nothing of the account."""
    user = sam["user"]
    signed_in(user)
    off(globex, sam["globex"])
    user.refresh_from_db()
    assert user.is_active and UserSession.objects.filter(user=user).exists()
