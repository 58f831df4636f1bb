"""Review s43 (mail and the Outbox): a person reads the moments Tater mails (when a key
expires, when a key was made with a leaked one, when an invitation lapses, when a password
changed). Found by review: mail wrote them three ways (``2026-12-07 06:35 UTC`` in expiry
notices, ``Y-m-d H:i UTC`` in the leak alert and security notices, ``Dec 10, 2026, 06:39
UTC`` in invitations). README "Decisions": every mail now writes the UI's form, the month by
name and the zone said (``Dec 10, 2026, 06:39 UTC``; SPEC §9 UI, §14 notices)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from orgs import members
from tests.factories import PASSWORD, make_key

pytestmark = pytest.mark.django_db

ONE_FORM = re.compile(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} UTC\b")
OTHER_FORMS = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}")


def _one_form_only(text: str) -> None:
    assert ONE_FORM.search(text), text
    assert not OTHER_FORMS.search(text), text


def test_an_expiry_notice_writes_the_one_form(world: dict[str, Any]) -> None:
    make_key(
        user=world["member"],
        tenant=world["tenant"],
        org=world["org1"],
        name="nightly",
        expires_at=timezone.now() + timedelta(days=5),
    )
    call_command("send_key_expiry_notices")
    (notice,) = mail.outbox
    _one_form_only(notice.subject)
    _one_form_only(notice.body)


def test_a_leak_alert_writes_the_one_form(api: Any, world: dict[str, Any], report_leak: Any) -> None:
    made = api.post("/api/v1/keys/", {"name": "backup"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert made.status_code == 201, made.content
    report_leak(world["owner_raw"])
    (alert,) = mail.outbox
    assert '"backup"' in alert.body
    _one_form_only(alert.body)


def test_an_invitation_writes_the_one_form(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        members.member_add_by_email(
            organization=world["org1"],
            email="new@example.org",
            role="viewer",
            actor=world["admin"],
            accept_url=lambda token: f"https://tater.example/invitations/{token}/",
        )
    (invitation,) = mail.outbox
    _one_form_only(invitation.body)


def test_a_security_notice_writes_the_one_form(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    client.force_login(world["member"])
    new = "another-passphrase-for-s43-dates"
    with django_capture_on_commit_callbacks(execute=True):
        changed = client.post(
            "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new}
        )
    assert changed.status_code == 302
    (notice,) = [m for m in mail.outbox if m.subject == "[Tater] Your password was changed"]
    _one_form_only(notice.body)
