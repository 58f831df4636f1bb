"""SPEC §8 invitations: "a pending invitation to the same address is replaced", also when two
admins (or one double-click) send it at once: one link stays valid, not two."""

from __future__ import annotations

from typing import Any

import pytest

from orgs.models import Invitation
from tests.factories import add_member, make_tenant
from tests.security.test_races_review import Rendezvous, held, race  # noqa: F401

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def test_two_invitations_sent_at_once_to_one_address_leave_one_pending(monkeypatch: Any) -> None:
    from orgs import members

    _, owner, (org,) = make_tenant(name="Acme")
    admin = add_member(org, "admin")
    rendezvous = Rendezvous(2)
    # Each send waits after replacing what is pending and before writing its own.
    held(monkeypatch, members, "invitation_digest", rendezvous)

    def send(actor: Any) -> Any:
        return members.member_add_by_email(
            organization=org, email="newcomer@example.net", role="member", actor=actor, accept_url=lambda t: t
        )

    results = race([lambda: send(owner), lambda: send(admin)], rendezvous)

    assert all(r.result == "invited" for r in results), results
    pending = Invitation.objects.filter(
        organization=org, email="newcomer@example.net", accepted_at__isnull=True, revoked_at__isnull=True
    )
    assert pending.count() == 1
