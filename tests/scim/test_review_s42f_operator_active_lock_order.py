"""Review s42 (F): an operator turning an account off (or on) in the admin while the identity
provider deprovisions (or reprovisions) the same person: both finish, one waiting for the other.

The admin saved the account's row first, then ended its sessions (its sign-out generation),
wrote its entry and cleared the directory's note that SCIM had deactivated the account (its
Users' rows). The directory took the User first, then the sign-out generation, the person's
memberships and keys, and saved the account last: PostgreSQL aborted one of the two
("deadlock detected": a 500 for the operator, or a 503 and a retry for the identity
provider). Expectations (SPEC §10, §12, §13): both calls finish; the account ends as the
later of the two left it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import UserSession
from orgs import services as org_services
from scim.services import provisioning
from tests.factories import operator_client
from tests.races import soon, while_held
from tests.scim.conftest import Directory, make_directory, patch_op, provision
from tests.scim.test_lifecycle import signed_in

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
User = get_user_model()


def _operator_sets_active(staff: Client, user: Any, active: bool, answers: list[Any]) -> Callable[[], Any]:
    form = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if active else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    return soon(lambda: answers.append(staff.post(f"/admin/accounts/user/{user.pk}/change/", form)))


def _idp_sets_active(d: Directory, user_id: str, active: bool, answers: list[Any]) -> Callable[[], Any]:
    body = patch_op({"op": "replace", "value": {"active": active}})
    return soon(lambda: answers.append(d.scim.patch(f"/Users/{user_id}", body)))


def _bob(d: Directory) -> tuple[str, Any]:
    bob_id = provision(d, "bob@race.test")["id"]
    bob = User.objects.get(email="bob@race.test")
    org_services.org_member_set(organization=d.orgs[0], user=bob, role="member", actor=d.owner)
    return bob_id, bob


def test_operator_deactivation_while_the_idp_deprovisions_does_not_deadlock(settings: Any) -> None:
    d = make_directory("Deactivation race", "race.test", orgs=1)
    bob_id, bob = _bob(d)
    signed_in(bob)
    staff = operator_client(settings)
    idp: list[Any] = []
    admin: list[Any] = []

    # The directory pauses once it holds the person's sign-out rows (about to end their
    # membership); the operator unticks "Active" meanwhile.
    errors = while_held(
        _idp_sets_active(d, bob_id, False, idp),
        _operator_sets_active(staff, bob, False, admin),
        pause_in=(org_services, "org_member_set"),
    )

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in admin] == [302]
    bob.refresh_from_db()
    assert not bob.is_active
    assert not UserSession.objects.filter(user=bob).exists()


def test_operator_reactivation_while_the_idp_reprovisions_does_not_deadlock(settings: Any) -> None:
    d = make_directory("Reactivation race", "race.test", orgs=1)
    bob_id, bob = _bob(d)
    off = d.scim.patch(f"/Users/{bob_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200
    bob.refresh_from_db()
    assert not bob.is_active  # deprovisioning deactivated it: reprovisioning may turn it on
    staff = operator_client(settings)
    idp: list[Any] = []
    admin: list[Any] = []

    # The directory pauses once it holds the person's User, memberships and keys (about to
    # reactivate the account); the operator ticks "Active" meanwhile.
    errors = while_held(
        _idp_sets_active(d, bob_id, True, idp),
        _operator_sets_active(staff, bob, True, admin),
        pause_in=(provisioning, "_resume"),
    )

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in admin] == [302]
    bob.refresh_from_db()
    assert bob.is_active
