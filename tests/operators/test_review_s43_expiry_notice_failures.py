"""Review s43 (mail and the Outbox): ``send_key_expiry_notices`` mails each due key's owner
in turn (SPEC §14, "each once"). Found by review: only SMTP, OS and value errors were caught
per key; anything else (a database error from the Outbox backend, which keeps mail in the
database without ``EMAIL_HOST``, or any other failure) stopped the whole run, so every key
after it went unnoticed that run, and an operator's cron saw exit status 0 when some notices
had failed. One key's failure now stops nothing: its claim is given back (the next run sends
it), the others go out, and the run ends with exit status 1, a message naming the keys that
failed and, with ``--json``, one object saying what was sent and what failed (SPEC §10)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.utils import timezone

from tests.factories import make_key

pytestmark = pytest.mark.django_db

NOTICES = "send_key_expiry_notices"


class FailingForOneRecipient(BaseEmailBackend):
    """A backend that fails, with ``error``, for one address and delivers the others."""

    refused = ""
    error: Exception = DatabaseError("database is locked")

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            if self.refused in message.to:
                raise self.error
            mail.outbox.append(message)
        return len(email_messages)


def _expiring_key(world: dict[str, Any], owner: str) -> Any:
    return make_key(
        user=world[owner],
        tenant=world["tenant"],
        org=world["org1"],
        name=f"{owner}'s expiring key",
        expires_at=timezone.now() + timedelta(days=5),
    )[0]


def _notices_to(user: Any) -> list[Any]:
    return [m for m in mail.outbox if user.email in m.to]


@pytest.fixture
def one_owner_fails(world: dict[str, Any], settings: Any) -> Any:
    """The member's key is met first (the newer key) and its mail fails."""
    owners = _expiring_key(world, "owner")
    members = _expiring_key(world, "member")
    FailingForOneRecipient.refused = world["member"].email
    settings.EMAIL_BACKEND = f"{__name__}.FailingForOneRecipient"
    return owners, members


@pytest.mark.parametrize("error", [DatabaseError("database is locked"), RuntimeError("template broke")])
def test_one_keys_failure_does_not_stop_the_others(
    world: dict[str, Any], one_owner_fails: Any, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    monkeypatch.setattr(FailingForOneRecipient, "error", error)
    _, failing = one_owner_fails
    with pytest.raises(CommandError) as raised:
        call_command(NOTICES, stdout=io.StringIO())
    assert len(_notices_to(world["owner"])) == 1  # the other key's notice went out
    assert raised.value.returncode == 1
    assert failing.public_id in str(raised.value)

    # Its claim was given back: the next run, the mail working again, sends it once.
    monkeypatch.setattr(FailingForOneRecipient, "refused", "nobody@example.org")
    call_command(NOTICES, stdout=io.StringIO())
    call_command(NOTICES, stdout=io.StringIO())
    assert len(_notices_to(world["member"])) == 1
    assert len(_notices_to(world["owner"])) == 1


def test_json_says_what_was_sent_and_what_failed(world: dict[str, Any], one_owner_fails: Any) -> None:
    sent, failing = one_owner_fails
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(NOTICES, "--json", stdout=out)
    assert raised.value.returncode == 1
    answer = json.loads(out.getvalue().strip().splitlines()[-1])
    assert answer["error"] and failing.public_id in answer["message"]
    assert [s["id"] for s in answer["sent"]] == [sent.public_id]
    assert [f["id"] for f in answer["failed"]] == [failing.public_id]


def test_a_run_where_everything_went_out_still_succeeds(world: dict[str, Any]) -> None:
    _expiring_key(world, "owner")
    out = io.StringIO()
    call_command(NOTICES, "--json", stdout=out)
    answer = json.loads(out.getvalue().strip().splitlines()[-1])
    assert "error" not in answer and len(answer["sent"]) == 1 and answer["failed"] == []
