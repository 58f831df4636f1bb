"""Found by an attacker review of passkeys (SPEC §13) and leaked and worn keys (SPEC §14),
expectations from SPEC §2, §13 and §14:

- the expiry notices of a key whose owner was deactivated (SCIM deprovisioning, an
  operator) or removed from the key's org still went out: a person no longer in the
  tenant was mailed the org's name and the key's name, prefix and expiry, about a key that
  no longer works for them anyway;
- a notice whose mail could not be sent (the SMTP server down, a refused recipient) was
  marked sent all the same: "each once" became "never", and the run stopped there, so
  every later key of the run waited for the next one.

Passkey ceremonies (challenge reuse, cross-session and cross-user answers, lockout, the
admin's step, malformed bodies) and the GitHub endpoint (signature first, key ids, bodies)
held under this review; their attacks are in tests/accounts/test_passkeys.py and
tests/leaks.
"""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
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


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, email_messages: Any) -> int:
        raise SMTPException("connection refused")


def test_an_expiry_notice_that_could_not_be_mailed_is_sent_by_the_next_run(
    world: dict[str, Any], settings: Any
) -> None:
    """'Each once': not 'at most once'. A mail that failed is not a notice given."""
    _expiring_key(world, "member")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    try:
        call_command(NOTICES)
    except Exception:  # noqa: S110 - how the failing run ends is not the point
        pass

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command(NOTICES)
    call_command(NOTICES)

    noticed = _notices_to(world["member"])
    assert len(noticed) == 1
    assert "within 7 days" in noticed[0].subject  # the notice it was due, not a farther one


class RefusingOneRecipient(BaseEmailBackend):
    """An SMTP server that refuses one address and delivers the others (to the outbox)."""

    refused = ""

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            if self.refused in message.to:
                raise SMTPException("recipient refused")
            mail.outbox.append(message)
        return len(email_messages)


def test_a_failed_notice_does_not_stop_the_others_of_the_run(world: dict[str, Any], settings: Any) -> None:
    """One refused recipient must not hold back every later key's notice."""
    _expiring_key(world, "owner")
    _expiring_key(world, "member")  # the newer key: met first
    RefusingOneRecipient.refused = world["member"].email
    settings.EMAIL_BACKEND = f"{__name__}.RefusingOneRecipient"
    try:
        call_command(NOTICES)
    except Exception:  # noqa: S110 - how the run ends is not the point
        pass

    assert len(_notices_to(world["owner"])) == 1
