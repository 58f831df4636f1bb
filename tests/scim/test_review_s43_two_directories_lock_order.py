"""Review s43 (A): two tenants' directories deprovision the same person at the same moment, one
of them the tenant whose verified domain holds the address: both finish, one waiting for the
other, and the account ends deactivated whichever was last (SPEC §12, §13).

Sam (sam@race.test) is provisioned by Acme (race.test is its verified domain) and is a guest at
Globex, whose directory lists him. A guest directory's deprovisioning locks its own User, then
the domain owner's Users (to tell whether that directory let him go), then the account; the
domain owner's locks its own User, then the account, and only reads the other directories'
Users. Were the domain owner to lock those Users after its own, the two would wait for each
other ("deadlock detected": a 503 and a retry for one of the identity providers; each case
below fails so with that order, checked when this was written). A guard: the order holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts.models import UserSession
from orgs import services as org_services
from scim.models import ScimUser
from scim.services import provisioning
from tests.races import soon, while_held
from tests.scim.conftest import make_directory, provision
from tests.scim.test_lifecycle import group_with, signed_in
from tests.scim.test_review_s42f_operator_active_lock_order import _idp_sets_active

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
User = get_user_model()


def _lets_go(directory: Any, user_id: str, how: str, answers: list[Any]) -> Any:
    if how == "active false":
        return _idp_sets_active(directory, user_id, False, answers)
    return soon(lambda: answers.append(directory.scim.delete(f"/Users/{user_id}")))


@pytest.mark.parametrize("how", ["active false", "DELETE"])
@pytest.mark.parametrize("first", ["domain owner", "guest tenant"])
def test_both_directories_deprovisioning_at_once_do_not_deadlock(first: str, how: str) -> None:
    acme = make_directory(f"Acme {first} {how}", "race.test", orgs=1)
    globex = make_directory(f"Globex {first} {how}", "globex-race.test", orgs=1)
    acme_id = provision(acme, "sam@race.test")["id"]
    group_with(acme, "Eng", acme_id, org=acme.orgs[0], role="member")
    sam = User.objects.get(email="sam@race.test")
    org_services.org_member_set(organization=globex.orgs[0], user=sam, role="member")
    globex_id = ScimUser.objects.get(tenant=globex.tenant, user=sam).public_id
    signed_in(sam)
    answers: list[Any] = []
    owner, guest = _lets_go(acme, acme_id, how, answers), _lets_go(globex, globex_id, how, answers)

    # Whichever goes first pauses once it holds its own User, about to look at the domain
    # owner's; the other directory takes its own User meanwhile.
    pair = (owner, guest) if first == "domain owner" else (guest, owner)
    errors = while_held(*pair, pause_in=(provisioning, "domain_owner_let_go"))

    assert errors == []
    expected = 200 if how == "active false" else 204
    assert [r.status_code for r in answers] == [expected, expected], [r.content for r in answers]
    sam.refresh_from_db()
    assert not sam.is_active, "both directories let him go"
    assert not UserSession.objects.filter(user=sam).exists()
