"""Review s37: key notices in the embedded default (no ``EMAIL_HOST``).

README: "Mail is not sent without EMAIL_HOST: tenant owners read it under Tenant → Outbox".
Found by review: only invitations named their tenant (``X-Tater-Tenant``), so the mails of
SPEC §14 (a key found in public and revoked, a SCIM token found in public, the 60/30/7-day
expiry notices) were dropped, only their subject logged: the owner of a revoked key was
told nothing anywhere and found their integration failing with KEY_REVOKED. They carry no
account-takeover link and nothing a tenant owner may not see (key names, prefixes, where a
secret was found), so they are now kept in the tenant's Outbox like invitations; account
mail (password resets, address confirmations) still never is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from outbox.models import OutboxMessage
from scim.services import tokens as token_services
from tests.factories import make_key

pytestmark = pytest.mark.django_db
OUTBOX = "outbox.backends.OutboxMailBackend"


@pytest.fixture
def embedded_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = OUTBOX


def owner_reads_outbox(world: dict[str, Any]) -> str:
    browser = Client()
    browser.force_login(world["owner"])
    page = browser.get("/settings/tenant/outbox/")
    assert page.status_code == 200
    return page.content.decode()


def test_a_leaked_keys_mail_is_kept_in_the_tenants_outbox(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    embedded_mail: None,
) -> None:
    key = world["member_key"]
    report_leak(world["member_raw"])

    (kept,) = OutboxMessage.objects.filter(tenant=world["tenant"])
    assert kept.to == [world["member"].email]
    assert key.name in kept.subject and "revoked" in kept.subject
    assert world["member_raw"] not in kept.body
    assert key.name in owner_reads_outbox(world)
    # Another tenant's owners see nothing of it.
    assert not OutboxMessage.objects.filter(tenant=world["other_tenant"]).exists()


def test_a_leaked_scim_tokens_mail_is_kept_in_the_tenants_outbox(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    embedded_mail: None,
) -> None:
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Entra ID", actor=world["owner"])
    report_leak(issued.secret)

    (kept,) = OutboxMessage.objects.filter(tenant=world["tenant"])
    assert "Entra ID" in kept.subject and issued.secret not in kept.body


def test_expiry_notices_are_kept_in_the_tenants_outbox(world: dict[str, Any], embedded_mail: None) -> None:
    key, _ = make_key(
        user=world["member"],
        tenant=world["tenant"],
        org=world["org1"],
        name="nightly export",
        expires_at=timezone.now() + timedelta(days=5),
    )
    call_command("send_key_expiry_notices")

    (kept,) = OutboxMessage.objects.filter(tenant=world["tenant"])
    assert kept.to == [world["member"].email]
    assert "nightly export" in kept.subject and "within 7 days" in kept.subject
    assert "nightly export" in owner_reads_outbox(world)
    # Each once: the next run keeps nothing more.
    call_command("send_key_expiry_notices")
    assert OutboxMessage.objects.filter(tenant=world["tenant"]).count() == 1
