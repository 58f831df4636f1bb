"""Review s43 (mail and the Outbox): without ``EMAIL_HOST`` a tenant's owners read the mail
about their tenant in its Outbox, which keeps only so many messages per tenant. Found by
review: it kept the newest 500 by count alone, so whoever can make mail about a tenant in
bulk (an org admin sending invitations; keys made with a leaked key through the API, each
with its expiry notices) could push the leaked-key alert (SPEC §14: "its owner is emailed")
out of the Outbox before the owners read it. Security alerts (a leaked key, a leaked SCIM
token) are now kept apart from the other mail: no number of invitations evicts them, and the
other mail is still bounded."""

from __future__ import annotations

from typing import Any

import pytest

from orgs import members
from outbox.models import OutboxMessage
from scim.services import tokens as token_services

pytestmark = pytest.mark.django_db

FLOOD = 520  # more than the Outbox keeps (docs/ui.md: 500 messages per tenant)


@pytest.fixture(autouse=True)
def embedded_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "outbox.backends.OutboxMailBackend"


def _invite_many(world: dict[str, Any], capture: Any, count: int) -> None:
    """What an org admin can do: one invitation after another (each replaces nothing: a new
    address each time)."""
    with capture(execute=True):
        for i in range(count):
            members.member_add_by_email(
                organization=world["org1"],
                email=f"flood{i}@example.org",
                role="viewer",
                actor=world["admin"],
                accept_url=lambda token: f"https://tater.example/invitations/{token}/",
            )


def test_invitations_in_bulk_do_not_evict_a_leaked_key_alert(
    world: dict[str, Any], report_leak: Any, django_capture_on_commit_callbacks: Any
) -> None:
    report_leak(world["member_raw"])
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Entra ID", actor=world["owner"])
    report_leak(issued.secret)

    _invite_many(world, django_capture_on_commit_callbacks, FLOOD)

    subjects = list(OutboxMessage.objects.filter(tenant=world["tenant"]).values_list("subject", flat=True))
    assert any("member key" in s and "found in public" in s for s in subjects)
    assert any("Entra ID" in s and "found in public" in s for s in subjects)
    # The other mail stays bounded: the oldest invitations went.
    invitations = [s for s in subjects if s.startswith("You are invited")]
    assert 0 < len(invitations) < FLOOD
    assert len(subjects) < FLOOD + 2
