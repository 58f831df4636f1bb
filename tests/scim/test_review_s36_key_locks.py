"""Review s36: SCIM changes that end a person's keys take those keys first.

A key change (deactivate, update, revoke) locks the key, then writes its audit entry and the
key check's bookkeeping. A SCIM change that wrote those rows first and locked the person's
keys last made PostgreSQL abort one of the two ("deadlock detected": a 500 for no fault of
its caller). Expectations: both calls finish (one may wait for the other) and the SCIM change
did what the SPEC says (a DELETE revokes the keys, a reprovisioned person gets back none of
the keys kept for roles that did not come back, SPEC §2).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import services as org_services
from tests.factories import make_key
from tests.scim.conftest import Directory, make_directory, patch_op, provision
from tests.security.test_review_s35_diff import _while_a_key_change_holds_its_key


def _suspended_person_with_keys(d: Directory, keys: int) -> tuple[str, list[ApiKey]]:
    """bob, provisioned, given an org role by hand, holding ``keys`` keys in it, then
    suspended by the IdP (``active: false``: the keys are kept for his return)."""
    bob_id = provision(d, "bob@race.test")["id"]
    bob = get_user_model().objects.get(email="bob@race.test")
    org_services.org_member_set(organization=d.orgs[0], user=bob, role="member", actor=d.owner)
    made = [make_key(user=bob, tenant=d.tenant, org=d.orgs[0], name=f"k{i}")[0] for i in range(keys)]
    r = d.scim.patch(f"/Users/{bob_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert r.status_code == 200, r.content
    assert all(k.revoked_at is None for k in ApiKey.objects.filter(pk__in=[k.pk for k in made]))
    return bob_id, sorted(made, key=lambda k: k.pk)


def _deactivate(d: Directory, key: ApiKey) -> Any:
    return lambda: key_services.apikey_set_active(api_key=key, actor=d.owner, active=False)


def _assert_answered(responses: list[Any], status: int) -> None:
    assert [r.status_code for r in responses] == [status], [r.content for r in responses]


pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def test_deleting_a_suspended_user_while_one_of_their_keys_changes_does_not_deadlock() -> None:
    # The DELETE revoked the first key (its entry written) and locked the second one after.
    d = make_directory("Delete race", "race.test", orgs=1)
    bob_id, (first, second) = _suspended_person_with_keys(d, keys=2)
    responses: list[Any] = []

    errors = _while_a_key_change_holds_its_key(
        _deactivate(d, second), lambda: responses.append(d.scim.delete(f"/Users/{bob_id}"))
    )

    assert errors == []
    _assert_answered(responses, 204)
    assert ApiKey.objects.filter(pk__in=[first.pk, second.pk], revoked_at__isnull=True).count() == 0


def test_reactivating_a_user_while_a_kept_key_changes_does_not_deadlock() -> None:
    # Reprovisioning saved the account (the key check's bookkeeping for its keys), then
    # revoked the keys kept for roles that do not come back.
    d = make_directory("Resume race", "race.test", orgs=1)
    bob_id, (key,) = _suspended_person_with_keys(d, keys=1)
    responses: list[Any] = []

    errors = _while_a_key_change_holds_its_key(
        _deactivate(d, key),
        lambda: responses.append(
            d.scim.patch(f"/Users/{bob_id}", patch_op({"op": "replace", "value": {"active": True}}))
        ),
    )

    assert errors == []
    _assert_answered(responses, 200)
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_renaming_and_reactivating_a_user_while_a_kept_key_changes_does_not_deadlock() -> None:
    # The new userName saved the account before reconciling, which then revoked the kept key.
    d = make_directory("Rename race", "race.test", orgs=1)
    bob_id, (key,) = _suspended_person_with_keys(d, keys=1)
    responses: list[Any] = []
    change = patch_op({"op": "replace", "value": {"userName": "robert@race.test", "active": True}})

    errors = _while_a_key_change_holds_its_key(
        _deactivate(d, key), lambda: responses.append(d.scim.patch(f"/Users/{bob_id}", change))
    )

    assert errors == []
    _assert_answered(responses, 200)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.owner.email == "robert@race.test"
