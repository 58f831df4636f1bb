"""Review s43 (A): the hand removal that deactivates an account the domain owner let go
(tests/scim/test_review_s43_domain_owner_let_go_by_hand.py) queues with the other writers of
that person, never deadlocks, and the account ends deactivated whichever goes first.

A removal by hand locks the tenant row, the membership, the keys and the audit chain before it
says the person left; the account and its sign-out rows come before those in the lock order
(README: the person's SCIM Users, domain owner's last, the account, its sign-out rows, then
tenant, memberships and keys, then the audit chain). Taken when the person has left, they
deadlock with a password change (the account, then the audit chain of the person's home
tenant: the removing one) or an operator's change. Expectations (SPEC §10, §12, §13): both
calls finish; the account is deactivated and none of its sessions is left.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import UserSession
from orgs import services as org_services
from orgs import signals as org_signals
from tests.factories import PASSWORD, UserFactory, make_tenant
from tests.races import soon, while_held
from tests.scim.conftest import Directory, make_directory, patch_op, provision
from tests.scim.test_lifecycle import group_with
from tests.scim.test_review_s42f_operator_active_lock_order import _idp_sets_active

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
User = get_user_model()
NEW = "N3w-pass-word-xyz!"


def _sam(name: str) -> tuple[Directory, str, Any, Any]:
    """sam@race.test, provisioned by the domain owner, a guest in a tenant without a directory."""
    acme = make_directory(f"{name} Acme", "race.test", orgs=1)
    sam_id = provision(acme, "sam@race.test")["id"]
    group_with(acme, "Eng", sam_id, org=acme.orgs[0], role="member")
    sam = User.objects.get(email="sam@race.test")
    sam.set_password(PASSWORD)
    sam.save()
    initech = make_tenant(name=f"{name} Initech", owner=UserFactory(), orgs=1)
    org_services.org_member_set(organization=initech[2][0], user=sam, role="member")
    return acme, sam_id, sam, initech


def _admin_removes(initech: Any, sam: Any, answers: list[Any]) -> Any:
    api = APIClient()
    api.force_login(initech[1])
    path = f"/api/v1/organizations/{initech[2][0].public_id}/members/{sam.public_id}/"
    return soon(lambda: answers.append(api.delete(path)))


def _deactivated(sam: Any) -> None:
    sam.refresh_from_db()
    assert not sam.is_active
    assert not UserSession.objects.filter(user=sam).exists()


def test_hand_removal_while_the_person_changes_their_password_does_not_deadlock() -> None:
    acme, sam_id, sam, initech = _sam("Password")
    assert (
        acme.scim.patch(f"/Users/{sam_id}", patch_op({"op": "replace", "value": {"active": False}})).status_code == 200
    )
    laptop = Client()
    assert laptop.post("/accounts/login/", {"login": sam.email, "password": PASSWORD}).status_code == 302
    removed: list[Any] = []
    changed: list[Any] = []
    form = {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW}

    # The removal pauses once it holds the membership, the keys and the audit chain (about to
    # say the person left); the person changes their password meanwhile.
    errors = while_held(
        _admin_removes(initech, sam, removed),
        soon(lambda: changed.append(laptop.post("/accounts/password/change/", form))),
        pause_in=(org_signals.member_left, "send"),
    )

    assert errors == []
    assert [r.status_code for r in removed] == [204], [r.content for r in removed]
    assert len(changed) == 1 and changed[0].status_code in (200, 302), changed[0].content[-500:]
    _deactivated(sam)


@pytest.mark.parametrize("first", ["idp", "admin"])
def test_hand_removal_while_the_domain_owner_deprovisions_ends_the_account_either_way(first: str) -> None:
    acme, sam_id, sam, initech = _sam(f"Both {first}")
    Client().force_login(sam)
    idp: list[Any] = []
    removed: list[Any] = []
    deprovision, removal = _idp_sets_active(acme, sam_id, False, idp), _admin_removes(initech, sam, removed)

    if first == "idp":
        # The directory pauses once it holds the User and the sign-out rows.
        errors = while_held(deprovision, removal, pause_in=(org_services, "org_member_set"))
    else:
        # The removal pauses once it holds the membership (about to take the keys).
        errors = while_held(removal, deprovision, pause_in=(org_signals.keys_sweep_ahead, "send"))

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in removed] == [204], [r.content for r in removed]
    _deactivated(sam)
