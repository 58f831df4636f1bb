"""Review s36 (E): an admin's removal and the IdP's change of the same person queue, never deadlock.

An admin removing someone from an org (or their tenant role) locks the membership (the
tenant row first for a tenant role) and then the person's keys. The IdP removing that person
from a mapped group (or deprovisioning them) locked the person's keys first and their
membership after: PostgreSQL aborted one of the two ("deadlock detected", a 503 for the IdP
or a 500 for the admin). Expectations (SPEC §2, §12): both calls finish, one waiting for the
other; the person is no longer a member and their key bound to the org is revoked.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from apikeys.models import ApiKey
from orgs import services as org_services
from orgs import signals as org_signals
from orgs.models import OrgMembership
from tests.factories import make_key
from tests.races import while_held
from tests.scim.conftest import Directory, make_directory, patch_op, provision
from tests.scim.test_lifecycle import group_with

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _while_the_admin_holds_the_membership(admin: Any, idp: Any) -> list[Exception]:
    """``admin`` pauses half a second once it holds the membership (about to take the keys);
    ``idp`` starts meanwhile in another thread."""
    return while_held(admin, idp, pause_in=(org_signals.keys_sweep_ahead, "send"))


def _bob_in_staff(d: Directory) -> tuple[dict[str, Any], Any, ApiKey]:
    bob_id = provision(d, "bob@race.test")["id"]
    group = group_with(d, "Staff", bob_id, org=d.orgs[0])
    bob = get_user_model().objects.get(email="bob@race.test")
    key = make_key(user=bob, tenant=d.tenant, org=d.orgs[0])[0]
    return group, bob, key


def _removed(d: Directory, bob: Any, key: ApiKey) -> None:
    assert not OrgMembership.objects.filter(organization=d.orgs[0], user=bob).exists()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_admin_removal_while_the_idp_empties_the_mapped_group_does_not_deadlock() -> None:
    d = make_directory("Removal group race", "race.test", orgs=1)
    group, bob, key = _bob_in_staff(d)
    responses: list[Any] = []
    empty = patch_op({"op": "replace", "path": "members", "value": []})

    errors = _while_the_admin_holds_the_membership(
        lambda: org_services.org_member_set(organization=d.orgs[0], user=bob, role=None, actor=d.owner),
        lambda: responses.append(d.scim.patch(f"/Groups/{group['id']}", empty)),
    )

    assert errors == []
    assert [r.status_code for r in responses] == [200], [r.content for r in responses]
    _removed(d, bob, key)


def test_admin_removal_while_the_idp_deletes_the_group_does_not_deadlock() -> None:
    d = make_directory("Removal delete race", "race.test", orgs=1)
    group, bob, key = _bob_in_staff(d)
    responses: list[Any] = []

    errors = _while_the_admin_holds_the_membership(
        lambda: org_services.org_member_set(organization=d.orgs[0], user=bob, role=None, actor=d.owner),
        lambda: responses.append(d.scim.delete(f"/Groups/{group['id']}")),
    )

    assert errors == []
    assert [r.status_code for r in responses] == [204], [r.content for r in responses]
    _removed(d, bob, key)
