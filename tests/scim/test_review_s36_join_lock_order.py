"""Review s36 (E): a person joining while the IdP changes the User with their address.

A join writes the membership and its entry (holding the tenant's audit chain), and then the
directory links the pending User with the person's address. An IdP PATCH of that pending
User at the same moment holds the User and then needs the chain for its own entry:
PostgreSQL aborted one of the two ("deadlock detected": the admin's add failed, or the IdP
got a 503). Expectations (docs/scim.md: a person who joins a tenant with a directory is
linked to the pending User with their address): both calls finish, and the pending User ends
up standing for the person's account.
"""

from __future__ import annotations

from typing import Any

import pytest

from orgs import services as org_services
from orgs.models import OrgMembership
from scim.models import ScimUser
from scim.services import directory
from tests.factories import UserFactory
from tests.races import while_held
from tests.scim.conftest import make_directory, patch_op, provision

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def test_joining_while_the_idp_patches_the_pending_user_does_not_deadlock() -> None:
    d = make_directory("Join race", "race.test", orgs=1)
    alice = UserFactory(email="alice@race.test")  # an account outside the tenant: pending
    pending = provision(d, "alice@race.test")["id"]
    assert ScimUser.objects.get(public_id=pending).user is None
    responses: list[Any] = []

    def admin() -> None:
        org_services.org_member_set(organization=d.orgs[0], user=alice, role="member", actor=d.owner)

    def idp() -> None:
        change = patch_op({"op": "replace", "value": {"name.givenName": "Alice"}})
        responses.append(d.scim.patch(f"/Users/{pending}", change))

    # The admin pauses once the join's membership and entry are written (it holds the chain).
    errors = while_held(admin, idp, pause_in=(directory, "has_directory"))

    assert errors == []
    assert [r.status_code for r in responses] == [200], [r.content for r in responses]
    assert OrgMembership.objects.filter(organization=d.orgs[0], user=alice).exists()
    assert ScimUser.objects.get(public_id=pending).user == alice
