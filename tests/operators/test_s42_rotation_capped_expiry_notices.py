"""SPEC §14 (expiry notices at 60, 30 and 7 days, each once: once per expiry) and §2 (a
rotation under a tenant's maximum key lifetime brings the key's expiry within it). A key whose
30-day notice went out for an expiry 25 days away, rotated after the tenant capped lifetimes at
20 days, gets a new, nearer expiry: its owner is told about that date, as after any other
change of expiry, not left with the notice of a date that no longer holds."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs.models import Tenant
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def notices() -> list[dict[str, Any]]:
    out = io.StringIO()
    call_command("send_key_expiry_notices", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])["sent"]


def test_a_rotation_that_brings_the_expiry_nearer_restarts_its_notices(world) -> None:
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], expires_at=timezone.now() + timedelta(days=25)
    )
    assert notices() == [{"id": key.public_id, "days": 30}]
    # A cap set where no reaction ran (an operator's SQL, a restore): the rotation applies it.
    Tenant.objects.filter(pk=world["tenant"].pk).update(max_key_lifetime_days=20)
    key.refresh_from_db()
    mail.outbox.clear()

    key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0)

    key.refresh_from_db()
    assert key.expires_at <= timezone.now() + timedelta(days=20)
    assert notices() == [{"id": key.public_id, "days": 30}]  # the new date's notice
    assert len(mail.outbox) == 1 and key.name in mail.outbox[0].body


def test_a_rotation_that_keeps_the_expiry_sends_nothing_again(world) -> None:
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], expires_at=timezone.now() + timedelta(days=25)
    )
    assert notices() == [{"id": key.public_id, "days": 30}]
    key_services.apikey_rotate(api_key=ApiKey.objects.get(pk=key.pk), actor=world["owner"], grace_period_seconds=0)
    assert notices() == []
