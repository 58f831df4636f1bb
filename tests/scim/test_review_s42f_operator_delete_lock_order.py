"""Review s42 (F): an operator deleting an account in the admin while the identity provider
deprovisions the same person: both finish, one waiting for the other.

The deletion ended the person's roles first (the tenant row, their memberships and keys, the
audit chain) and let go of the directory's Users last (their rows lose the account as it
goes). The directory took its User first and the memberships after: PostgreSQL aborted one
of the two ("deadlock detected": a 503 for the operator, or a 503 and a retry for the
identity provider). Expectations (SPEC §10, §12, §13): both calls finish; the account is gone.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts import services as account_services
from orgs import services as org_services
from tests.factories import operator_client
from tests.races import soon, while_held
from tests.scim.conftest import make_directory
from tests.scim.test_lifecycle import signed_in
from tests.scim.test_review_s42f_operator_active_lock_order import _bob, _idp_sets_active

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
User = get_user_model()


def _operator_deletes(settings: Any, user: Any, answers: list[Any]) -> Any:
    staff = operator_client(settings)
    return soon(lambda: answers.append(staff.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})))


@pytest.mark.parametrize("first", ["idp", "operator"])
def test_operator_deletion_while_the_idp_deprovisions_does_not_deadlock(settings: Any, first: str) -> None:
    d = make_directory(f"Deletion race {first}", "race.test", orgs=1)
    bob_id, bob = _bob(d)
    signed_in(bob)
    idp: list[Any] = []
    admin: list[Any] = []
    deprovision = _idp_sets_active(d, bob_id, False, idp)
    delete = _operator_deletes(settings, bob, admin)

    if first == "idp":
        # The directory pauses once it holds the person's User and sign-out rows (about to
        # end their membership); the operator deletes the account meanwhile.
        errors = while_held(deprovision, delete, pause_in=(org_services, "org_member_set"))
    else:
        # The deletion pauses once it ended the person's roles (about to write its entry and
        # delete the account); the directory deprovisions them meanwhile.
        errors = while_held(delete, deprovision, pause_in=(account_services, "audit_record"))

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in admin] == [302], [r.content[-500:] for r in admin]
    assert not User.objects.filter(pk=bob.pk).exists()
