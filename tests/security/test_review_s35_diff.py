"""Review of the s35 changes.

Races run on PostgreSQL (each thread its own connection, committed). PostgreSQL answers a lock cycle by aborting one transaction ("deadlock detected"): a call
that fails (a 500) for no fault of its caller. Expectations: both calls finish, or one is
refused for a reason the SPEC gives; one may wait for the other.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts import services as account_services
from apikeys import services as key_services
from orgs import services as org_services
from tater.exceptions import NotPermitted, ObjectNotFound
from tests.factories import add_member, make_key, make_tenant
from tests.races import while_held
from tests.scim.conftest import make_directory, new_user, patch_op


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgresql_only")
def test_an_operator_deleting_an_account_while_it_creates_a_key_does_not_deadlock() -> None:
    # Key creation now locks the tenant row, then the creator's memberships; the account
    # deletion ended the org memberships before the tenant role (which locks the tenant row).
    tenant, owner, (org,) = make_tenant(name="Deletion race")
    bob = add_member(org, "admin")
    org_services.tenant_member_set(tenant=tenant, user=bob, role="admin", actor=owner)
    errors: list[Exception] = []
    removed_from_org = threading.Event()
    original = org_services.org_member_set

    def held_org_member_set(**kwargs: Any) -> Any:
        result = original(**kwargs)
        if threading.current_thread().name == "deletion":
            removed_from_org.set()
            time.sleep(0.5)
        return result

    def deleting() -> None:
        try:
            with transaction.atomic():
                account_services.user_deleted_by_operator(user=bob)
        except Exception as exc:
            errors.append(exc)
        finally:
            removed_from_org.set()
            connection.close()

    def creating() -> None:
        removed_from_org.wait(timeout=30)
        try:
            key_services.apikey_create(creator=bob, tenant=tenant, organization=org, name="late")
        except (NotPermitted, ObjectNotFound):
            pass  # refused once the deletion committed: a correct outcome
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deleting, name="deletion"), threading.Thread(target=creating)]
    with mock.patch.object(org_services, "org_member_set", held_org_member_set):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []


@pytest.mark.django_db
def test_a_reprovisioned_user_given_a_role_again_later_does_not_revive_keys_from_before() -> None:
    """SCIM ``active: false`` suspends (the keys kept for the person's return), and
    reprovisioning now starts fresh (roles given by hand are not given back). A key of an org
    whose role did not come back must not come back either when an admin grants the role
    again months later: as after a removal, a key that may have leaked while its owner was out
    stays dead (docs/authorization.md "Removal kills")."""
    acme = make_directory("Acme", "acme.test")
    created = acme.scim.post("/Users", new_user("mia@acme.test"))
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    mia = get_user_model().objects.get(email="mia@acme.test")
    org = acme.orgs[0]
    org_services.org_member_set(organization=org, user=mia, role="admin", actor=acme.owner)  # by hand
    _, secret = make_key(user=mia, tenant=acme.tenant, org=org)

    for active in (False, True):
        r = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": active}}))
        assert r.status_code == 200, r.content
    org_services.org_member_set(organization=org, user=mia, role="admin", actor=acme.owner)

    answer = APIClient().get("/api/v1/auth/validate", HTTP_X_API_KEY=secret)
    assert answer.status_code == 401, answer.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "members",
    [
        '"userName": "a@dup.test", "USERNAME": "b@dup.test"',
        '"userName": "a@dup.test", "urn:ietf:params:scim:schemas:core:2.0:User": {"userName": "b@dup.test"}',
    ],
    ids=["spelled twice", "under its URN too"],
)
def test_scim_refuses_an_attribute_named_twice_in_another_spelling(members: str) -> None:
    # SCIM attribute names are case-insensitive (RFC 7643 §2.1) and core attributes may sit
    # under their schema URN: these name userName twice as surely as an exact repeat does,
    # which is refused; the one Tater kept (the last) was not the one a reader sees first.
    directory = make_directory("Dup", "dup.test")
    body = '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], ' + members + "}"
    r = APIClient().post(
        "/scim/v2/Users",
        data=body,
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {directory.secret}",
    )
    assert r.status_code == 400, r.content
    assert "userName" in r.content.decode() and "twice" in r.content.decode()
    assert not get_user_model().objects.filter(email__in=["a@dup.test", "b@dup.test"]).exists()


@pytest.mark.django_db
def test_scim_patch_refuses_an_attribute_named_twice_in_one_value() -> None:
    directory = make_directory("Dup", "dup.test")
    created = directory.scim.post("/Users", new_user("mia@dup.test"))
    assert created.status_code == 201, created.content
    value = '{"active": true, "urn:ietf:params:scim:schemas:core:2.0:User:Active": false}'
    body = (
        '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": '
        + value
        + "}]}"
    )
    r = APIClient().patch(
        f"/scim/v2/Users/{created.json()['id']}",
        data=body,
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {directory.secret}",
    )
    assert r.status_code == 400, r.content
    assert "twice" in r.content.decode()
    assert get_user_model().objects.get(email="mia@dup.test").is_active


def _while_a_key_change_holds_its_key(key_change: Any, change: Any) -> list[Exception]:
    """``key_change`` (a key service) is held for half a second right after it locked its key
    (where it checks who may act); ``change`` starts meanwhile in another thread."""
    return while_held(key_change, change, pause_in=(key_services, "as_actor"))


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgresql_only")
@pytest.mark.parametrize("how", ["org", "tenant role"])
def test_removing_a_member_while_their_key_is_deactivated_does_not_deadlock(how: str) -> None:
    # The removal now revokes the member's keys after writing its own entries; a key change
    # running at that moment held the key and then needed the audit chain.
    tenant, owner, (org,) = make_tenant(name="Removal race")
    bob = add_member(org, "member")
    if how == "tenant role":
        org_services.tenant_member_set(tenant=tenant, user=bob, role="admin", actor=owner)
        org_services.org_member_set(organization=org, user=bob, role=None, actor=owner)
    key, _ = make_key(user=bob, tenant=tenant, org=org)

    def remove() -> None:
        if how == "org":
            org_services.org_member_set(organization=org, user=bob, role=None, actor=owner)
        else:
            org_services.tenant_member_set(tenant=tenant, user=bob, role=None, actor=owner)

    errors = _while_a_key_change_holds_its_key(
        lambda: key_services.apikey_set_active(api_key=key, actor=owner, active=False), remove
    )

    assert errors == []
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgresql_only")
def test_setting_a_maximum_lifetime_while_a_key_is_deactivated_does_not_deadlock() -> None:
    tenant, owner, (org,) = make_tenant(name="Cap race")
    key, _ = make_key(user=owner, tenant=tenant, org=org)

    errors = _while_a_key_change_holds_its_key(
        lambda: key_services.apikey_set_active(api_key=key, actor=owner, active=False),
        lambda: org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=30),
    )

    assert errors == []
    key.refresh_from_db()
    assert key.expires_at is not None and not key.is_active
