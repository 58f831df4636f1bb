"""Review s43 (mail and the Outbox): names are one line of text (tater.names) since today's
refusal of the Unicode line and paragraph separators (U+2028, U+2029), but names stored
before it (or before names were checked at all: a line break) are still in the database.
Found by review: mail bodies wrote such names as stored (the key expiry notice, the
leaked-key and SCIM-token alerts, the invitation), so a key named before today, e.g. by
whoever held a leaked key, still wrote lines of its own into the alert meant to catch them,
and an organization name with a line break stopped its invitations (a line break in the
Subject). A name in mail is now always shown on one line (SPEC §2, §14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apikeys.models import ApiKey
from orgs import members
from orgs.models import Organization, Tenant
from scim.models import ScimToken
from scim.services import tokens as token_services
from tests.factories import make_key

pytestmark = pytest.mark.django_db

FORGED = "Tater security: no action is needed"
BREAKS = ["\n", "\r\n", "\u2028", "\u2029\u2029"]


def _stored(name: str, brk: str) -> str:
    return f"{name}{brk}{FORGED}"


def _no_forged_line(text: str) -> None:
    assert "\u2028" not in text and "\u2029" not in text and "\r" not in text, text
    lines = text.splitlines()
    assert not any(line.startswith(FORGED) for line in lines), text
    assert FORGED in text  # shown, on the line of the name it belongs to


@pytest.mark.parametrize("brk", BREAKS)
def test_an_expiry_notice_shows_stored_names_on_one_line(world: dict[str, Any], brk: str) -> None:
    key, _ = make_key(
        user=world["member"],
        tenant=world["tenant"],
        org=world["org1"],
        name="nightly",
        expires_at=timezone.now() + timedelta(days=5),
    )
    ApiKey.objects.filter(pk=key.pk).update(name=_stored("nightly", brk))
    Organization.objects.filter(pk=world["org1"].pk).update(name=_stored("Org", brk))
    call_command("send_key_expiry_notices")
    (notice,) = mail.outbox
    _no_forged_line(notice.body)


@pytest.mark.parametrize("brk", BREAKS)
def test_a_leak_alert_shows_stored_names_on_one_line(
    api: Any, world: dict[str, Any], report_leak: Any, brk: str
) -> None:
    made = api.post("/api/v1/keys/", {"name": "backup"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert made.status_code == 201, made.content
    # Named before today's refusal: the key made with the leaked key, the leaked key, the org.
    ApiKey.objects.filter(public_id=made.json()["id"]).update(name=_stored("backup", brk))
    ApiKey.objects.filter(pk=world["owner_key"].pk).update(name=_stored("owner key", brk))
    Organization.objects.filter(pk=world["org1"].pk).update(name=_stored("Org", brk))
    report_leak(world["owner_raw"])
    (alert,) = mail.outbox
    _no_forged_line(alert.body)


@pytest.mark.parametrize("brk", BREAKS)
def test_a_scim_token_alert_shows_stored_names_on_one_line(world: dict[str, Any], report_leak: Any, brk: str) -> None:
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Entra ID", actor=world["owner"])
    ScimToken.objects.filter(public_id=issued.token.public_id).update(name=_stored("Entra ID", brk))
    Tenant.objects.filter(pk=world["tenant"].pk).update(name=_stored("Acme", brk))
    report_leak(issued.secret)
    (alert,) = mail.outbox
    _no_forged_line(alert.body)


@pytest.mark.parametrize("brk", BREAKS)
def test_an_invitation_shows_stored_names_on_one_line(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any, brk: str
) -> None:
    Organization.objects.filter(pk=world["org1"].pk).update(name=_stored("Org", brk))
    Tenant.objects.filter(pk=world["tenant"].pk).update(name=_stored("Acme", brk))
    world["org1"].refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        members.member_add_by_email(
            organization=world["org1"],
            email="new@example.org",
            role="viewer",
            actor=world["admin"],
            accept_url=lambda token: f"https://tater.example/invitations/{token}/",
        )
    (invitation,) = mail.outbox
    _no_forged_line(invitation.body)
    assert "\n" not in invitation.subject and "\u2028" not in invitation.subject
