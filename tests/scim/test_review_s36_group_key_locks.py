"""Review s36: a mapped group's change that removes people takes their keys first.

Deleting a mapped group wrote its entry and then removed its members from the org, each
removal locking that member's keys then; remapping or changing a group's members removed one
member (entries written) before locking the next one's keys. A key change locks its key and
then the audit chain, so PostgreSQL aborted one of the two ("deadlock detected", a 503).
Expectations: both finish, and the removed members' keys bound to the org are revoked
(SPEC §2: removal kills the key).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from apikeys.models import ApiKey
from orgs.models import OrgMembership
from scim.models import ScimGroup
from scim.services import groups as group_services
from tests.factories import make_key
from tests.scim.conftest import Directory, make_directory, patch_op, provision
from tests.scim.test_lifecycle import group_with
from tests.scim.test_review_s36_key_locks import _deactivate
from tests.security.test_review_s35_diff import _while_a_key_change_holds_its_key

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _staff(d: Directory, *names: str) -> tuple[dict[str, Any], list[ApiKey]]:
    """A group mapped to the org, its members holding one key each there."""
    ids = [provision(d, f"{name}@race.test")["id"] for name in names]
    group = group_with(d, "Staff", *ids, org=d.orgs[0])
    people = [get_user_model().objects.get(email=f"{name}@race.test") for name in names]
    keys = [make_key(user=p, tenant=d.tenant, org=d.orgs[0])[0] for p in people]
    return group, sorted(keys, key=lambda k: k.pk)


def _revoked(keys: list[ApiKey]) -> bool:
    return not ApiKey.objects.filter(pk__in=[k.pk for k in keys], revoked_at__isnull=True).exists()


def test_deleting_a_mapped_group_while_a_members_key_changes_does_not_deadlock() -> None:
    d = make_directory("Group delete race", "race.test", orgs=1)
    group, keys = _staff(d, "bob")
    responses: list[Any] = []

    errors = _while_a_key_change_holds_its_key(
        _deactivate(d, keys[0]), lambda: responses.append(d.scim.delete(f"/Groups/{group['id']}"))
    )

    assert errors == []
    assert [r.status_code for r in responses] == [204], [r.content for r in responses]
    assert _revoked(keys)


def test_removing_two_members_while_the_second_ones_key_changes_does_not_deadlock() -> None:
    d = make_directory("Group members race", "race.test", orgs=1)
    group, keys = _staff(d, "bob", "cy")
    responses: list[Any] = []
    change = patch_op({"op": "replace", "path": "members", "value": []})

    errors = _while_a_key_change_holds_its_key(
        _deactivate(d, keys[1]), lambda: responses.append(d.scim.patch(f"/Groups/{group['id']}", change))
    )

    assert errors == []
    assert [r.status_code for r in responses] == [200], [r.content for r in responses]
    assert _revoked(keys)


def test_unmapping_a_group_while_a_members_key_changes_does_not_deadlock() -> None:
    d = make_directory("Group unmap race", "race.test", orgs=1)
    group, keys = _staff(d, "bob", "cy")
    mapped = ScimGroup.objects.get(public_id=group["id"])

    errors = _while_a_key_change_holds_its_key(
        _deactivate(d, keys[1]),
        lambda: group_services.scim_group_map(group=mapped, organization=None, role="", actor=d.owner),
    )

    assert errors == []
    assert _revoked(keys)
    assert not OrgMembership.objects.filter(organization=d.orgs[0], user__email__endswith="@race.test").exists()
