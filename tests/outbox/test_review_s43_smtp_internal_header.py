"""Review s43 (mail and the Outbox): mail about a tenant (invitations, leaked-key and SCIM-token
alerts, key expiry notices) names its tenant for the Outbox backend, which keeps it for that
tenant's owners when there is no mail server. Found by review: the name was an
``X-Tater-Tenant`` header, and Django's SMTP backend sends every header as it is, so with
``EMAIL_HOST`` set an invitation told an outside invitee (and every mail system on its way)
the tenant's internal public id. Nothing meant for the Outbox now reaches a mail server
(SPEC §1: nothing of a tenant visible to outsiders; §12)."""

from __future__ import annotations

import email
import smtplib
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from orgs import members
from outbox.models import OutboxMessage
from tests.factories import make_key

pytestmark = pytest.mark.django_db


class RecordingSMTP:
    """A mail server: records what it is given, as it would go over the wire."""

    sent: list[bytes] = []

    def __init__(self, host: str = "", port: int = 0, **kwargs: Any) -> None:
        pass

    def sendmail(self, from_addr: str, to_addrs: list[str], msg: bytes, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(msg)
        return {}

    def quit(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def smtp(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """EMAIL_HOST set: the README's "SMTP when EMAIL_HOST is set"."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "mail.example.org"
    monkeypatch.setattr(smtplib, "SMTP", RecordingSMTP)
    monkeypatch.setattr(RecordingSMTP, "sent", [])
    return RecordingSMTP.sent


def _headers(raw: bytes) -> dict[str, str]:
    return {k.lower(): v for k, v in email.message_from_bytes(raw).items()}


def test_an_invitation_sent_by_smtp_does_not_name_the_tenant_in_a_header(
    world: dict[str, Any], smtp: list[bytes], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        members.member_add_by_email(
            organization=world["org1"],
            email="outsider@example.org",
            role="viewer",
            actor=world["admin"],
            accept_url=lambda token: f"https://tater.example/invitations/{token}/",
        )
    (raw,) = smtp
    assert "outsider@example.org" in _headers(raw)["to"]
    assert world["tenant"].public_id.encode() not in raw
    assert not any(name.startswith("x-tater") for name in _headers(raw))


def test_an_expiry_notice_sent_by_smtp_does_not_either(world: dict[str, Any], smtp: list[bytes]) -> None:
    make_key(
        user=world["member"],
        tenant=world["tenant"],
        org=world["org1"],
        name="nightly",
        expires_at=timezone.now() + timedelta(days=5),
    )
    call_command("send_key_expiry_notices")
    (raw,) = smtp
    assert world["tenant"].public_id.encode() not in raw
    assert not any(name.startswith("x-tater") for name in _headers(raw))


def test_without_a_mail_server_the_outbox_still_keeps_it(
    world: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "outbox.backends.OutboxMailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        members.member_add_by_email(
            organization=world["org1"],
            email="outsider@example.org",
            role="viewer",
            actor=world["admin"],
            accept_url=lambda token: f"https://tater.example/invitations/{token}/",
        )
    (kept,) = OutboxMessage.objects.filter(tenant=world["tenant"])
    assert kept.to == ["outsider@example.org"]
    assert not OutboxMessage.objects.filter(tenant=world["other_tenant"]).exists()
