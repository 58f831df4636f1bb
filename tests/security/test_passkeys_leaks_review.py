"""Found by an attacker review of passkeys (SPEC §13) and leaked and worn keys (SPEC §14),
expectations from SPEC §2, §13 and §14:

- the expiry notices of a key whose owner was deactivated (SCIM deprovisioning, an
  operator) or removed from the key's org still went out: a person no longer in the
  tenant was mailed the org's name and the key's name, prefix and expiry, about a key that
  no longer works for them anyway.

Passkey ceremonies (challenge reuse, cross-session and cross-user answers, lockout, the
admin's step, malformed bodies) and the GitHub endpoint (signature first, key ids, bodies)
held under this review; their attacks are in tests/accounts/test_passkeys.py and
tests/leaks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from orgs import members as member_services
from tests.factories import make_key

pytestmark = pytest.mark.django_db

NOTICES = "send_key_expiry_notices"


def _expiring_key(world: dict[str, Any], owner: str, days: float = 5) -> Any:
    return make_key(
        user=world[owner],
        tenant=world["tenant"],
        org=world["org1"],
        name=f"{owner}'s expiring key",
        expires_at=timezone.now() + timedelta(days=days),
    )[0]


def _notices_to(user: Any) -> list[Any]:
    return [m for m in mail.outbox if user.email in m.to]


# --- SPEC §14 "Expiry notices at 60, 30 and 7 days (each once)" ------------------------


def test_no_expiry_notice_to_a_deactivated_owner(world: dict[str, Any]) -> None:
    """A deprovisioned person's keys stop working (SPEC §13); telling them about the
    tenant's keys after they left is a leak, not a notice."""
    _expiring_key(world, "member")
    _expiring_key(world, "owner")
    world["member"].is_active = False
    world["member"].save(update_fields=["is_active"])

    call_command(NOTICES)

    assert _notices_to(world["owner"]), "the active owner's key is still noticed"
    assert _notices_to(world["member"]) == []


def test_no_expiry_notice_to_an_owner_removed_from_the_org(world: dict[str, Any]) -> None:
    """Removed from the org, the owner's key reaches nothing (SPEC §2: role ∩ scopes); the
    notice would mail the org's and the key's names to someone outside the tenant."""
    _expiring_key(world, "member")
    _expiring_key(world, "owner")
    member_services.member_remove(organization=world["org1"], user=world["member"], actor=world["owner"])

    call_command(NOTICES)

    assert _notices_to(world["owner"])
    assert _notices_to(world["member"]) == []
