"""Review s42 (E): "sign out everywhere" and the IdP's deprovisioning of the same person queue,
never deadlock.

Ending all of an account's sessions now also moves its sign-out generation (a row locked by
an UPDATE), then writes the audit entry (the tenant's audit chain). Deprovisioning wrote the
person's removals first (that chain) and ended the sessions after (that row): PostgreSQL
aborted one of the two ("deadlock detected": a 500 for the person signing out everywhere, or
a 503 and a retry for the identity provider). Expectations (SPEC §13, §8, §12): both finish,
one waiting for the other; the account is deactivated and its sessions are gone.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts import services as account_services
from accounts.models import UserSession
from orgs import services as org_services
from tests.races import while_held
from tests.scim.conftest import make_directory, patch_op, provision
from tests.scim.test_lifecycle import signed_in

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def test_sign_out_everywhere_while_the_idp_deprovisions_does_not_deadlock() -> None:
    d = make_directory("Sign-out race", "race.test", orgs=1)
    bob_id = provision(d, "bob@race.test")["id"]
    bob = get_user_model().objects.get(email="bob@race.test")
    org_services.org_member_set(organization=d.orgs[0], user=bob, role="member", actor=d.owner)
    signed_in(bob)
    responses: list[Any] = []

    # The person's sign-out everywhere pauses once its sessions are ended (about to write its
    # entry); the identity provider deprovisions them meanwhile.
    errors = while_held(
        lambda: account_services.sessions_ended(user=bob, via="user"),
        lambda: responses.append(
            d.scim.patch(f"/Users/{bob_id}", patch_op({"op": "replace", "value": {"active": False}}))
        ),
        pause_in=(account_services, "audit_record"),
    )

    assert errors == []
    assert [r.status_code for r in responses] == [200], [r.content for r in responses]
    bob.refresh_from_db()
    assert not bob.is_active
    assert not UserSession.objects.filter(user=bob).exists()
