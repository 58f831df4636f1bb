"""Review s42 (F): a password changed (by the person, or set by an operator in the admin) while
the identity provider deprovisions the same person: both finish, one waiting for the other.

A password change saves the account's row, then ends its other sessions (its sign-out
generation) and writes its entry. Deprovisioning took the sign-out generation and sessions
first and saved the account (deactivated) last: PostgreSQL aborted one of the two ("deadlock
detected": a 503 for the person or the operator, or a 503 and a retry for the identity
provider). Expectations (SPEC §5, §10, §12, §13): both calls finish; the account is
deactivated and none of its sessions is left.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import UserSession
from orgs import services as org_services
from tests.factories import PASSWORD, operator_client
from tests.races import soon, while_held
from tests.scim.conftest import make_directory
from tests.scim.test_review_s42f_operator_active_lock_order import _bob, _idp_sets_active

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
User = get_user_model()
NEW = "N3w-pass-word-xyz!"


@pytest.mark.parametrize("by", ["person", "operator"])
def test_password_change_while_the_idp_deprovisions_does_not_deadlock(settings: Any, by: str) -> None:
    d = make_directory(f"Password race {by}", "race.test", orgs=1)
    bob_id, bob = _bob(d)
    bob.set_password(PASSWORD)
    bob.save()
    laptop = Client()
    assert laptop.post("/accounts/login/", {"login": bob.email, "password": PASSWORD}).status_code == 302
    if by == "person":
        client, page, form = laptop, "/accounts/password/change/", {"oldpassword": PASSWORD}
    else:
        client, page, form = (
            operator_client(settings),
            f"/admin/accounts/user/{bob.pk}/password/",
            {"usable_password": "true"},
        )
    answers: list[Any] = []
    idp: list[Any] = []

    # The directory pauses once it holds the person's sign-out rows (about to end their
    # membership); the password is changed meanwhile.
    errors = while_held(
        _idp_sets_active(d, bob_id, False, idp),
        soon(lambda: answers.append(client.post(page, {**form, "password1": NEW, "password2": NEW}))),
        pause_in=(org_services, "org_member_set"),
    )

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in answers] == [302], [r.content[-500:] for r in answers]
    bob.refresh_from_db()
    assert not bob.is_active
    assert bob.check_password(NEW)
    assert not UserSession.objects.filter(user=bob).exists()
