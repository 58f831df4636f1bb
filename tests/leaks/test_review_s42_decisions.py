"""README's decisions for SPEC §14 beyond its letter: a leaked key that has expired (but was
never revoked) is revoked all the same, since its expiry could be extended and the secret
would work again; it is a ``true_positive``, audited and its owner told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apikeys.models import ApiKey
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_expired_leaked_key_is_revoked_and_its_owner_told(
    world: dict[str, Any], report_leak: Any, mailoutbox: list[Any]
) -> None:
    key = world["owner_key"]
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(days=1))
    report_leak(world["owner_raw"])
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoked", target_id=key.public_id)
    assert event.channel == "system" and event.changes["reason"] == "leaked"
    assert [m.to for m in mailoutbox] == [[world["owner"].email]]
    assert world["owner_raw"] not in mailoutbox[0].body
