"""Django's own account commands are audited like every other write (SPEC §7, §10, §8).

``manage.py changepassword`` and ``createsuperuser`` come with django.contrib.auth and wrote
nothing to the audit log: an operator resetting a compromised account's password, or minting
a superuser on a server, left no trace, although "every write through any channel is
recorded". ``changepassword`` also saved the whole account row it read before prompting: an
identity provider deprovisioning the person while the operator typed was undone (the account
active again). Now both are audited (channel ``system``), the password change ends every
session and pending sign-in and mails the account, as an operator's change in the admin does,
and it writes the password only.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from audit.models import AuditEvent
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """What the operator types at the password prompts (a callable runs instead, first)."""
    answers: list[Any] = []

    def getpass(prompt: str = "Password: ") -> str:
        answer = answers.pop(0)
        return answer() if callable(answer) else answer

    monkeypatch.setattr("getpass.getpass", getpass)
    yield answers


def _signed_in(user: Any) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    assert client.get("/api/v1/me").status_code == 200
    return client


def test_changepassword_is_audited_ends_sessions_and_mails_the_account(typed: list[Any]) -> None:
    _tenant, owner, _orgs = make_tenant(name="Acme")
    browser = _signed_in(owner)
    mail.outbox.clear()
    typed += [NEW_PASSWORD, NEW_PASSWORD]
    call_command("changepassword", owner.email, stdout=StringIO())
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    entry = AuditEvent.objects.get(action="user.password_changed", target_id=owner.public_id)
    assert entry.channel == "system"
    assert entry.changes["via"] == "operator"
    assert NEW_PASSWORD not in str(entry.changes)
    assert browser.get("/api/v1/me").status_code == 401
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_changepassword_does_not_undo_a_deprovisioning_made_while_typing(typed: list[Any]) -> None:
    _tenant, owner, _orgs = make_tenant(name="Acme")

    def deprovisioned_meanwhile() -> str:
        get_user_model().objects.filter(pk=owner.pk).update(is_active=False)
        return NEW_PASSWORD

    typed += [deprovisioned_meanwhile, NEW_PASSWORD]
    call_command("changepassword", owner.email, stdout=StringIO())
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert owner.is_active is False


def test_changepassword_of_nobody_is_a_clear_error(typed: list[Any]) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("changepassword", "nobody@example.com", stdout=StringIO())
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()


def test_createsuperuser_is_audited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)
    call_command("createsuperuser", "--noinput", "--email", "root@example.com", stdout=StringIO())
    user = get_user_model().objects.get(email="root@example.com")
    assert user.is_superuser and user.is_staff
    entry = AuditEvent.objects.get(action="user.created", target_id=user.public_id)
    assert entry.channel == "system"
    assert entry.changes["is_superuser"] is True
    assert NEW_PASSWORD not in str(entry.changes)
