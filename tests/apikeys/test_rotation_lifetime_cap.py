"""SPEC §2: "tenant policy may cap the lifetime". A key created before the tenant set a
maximum lifetime has no expiry; rotating it issues a new secret, which must not start a
lifetime the policy forbids (creation and PATCH refuse one; rotation handed it out)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import make_key

KEYS = "/api/v1/keys/"
pytestmark = pytest.mark.django_db


def rotate(api, key, raw):
    return api.post(f"{KEYS}{key.public_id}/rotate/", {"grace_period_seconds": 60}, format="json", HTTP_X_API_KEY=raw)


def test_rotating_an_unexpiring_key_under_a_cap_gives_it_the_capped_expiry(api, world):
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"])
    assert key.expires_at is None
    world["tenant"].max_key_lifetime_days = 30
    world["tenant"].save()

    r = rotate(api, key, raw)
    assert r.status_code in (200, 201), r.content
    key.refresh_from_db()
    assert key.expires_at is not None
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)
    assert r.json()["expires_at"] is not None
    entry = AuditEvent.objects.filter(action="api_key.rotated", target_id=key.public_id).latest("id")
    assert entry.changes["expires_at"]["from"] is None and entry.changes["expires_at"]["to"]


def test_an_expiry_within_the_cap_is_kept(api, world):
    soon = timezone.now() + timedelta(days=3)
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], expires_at=soon)
    world["tenant"].max_key_lifetime_days = 30
    world["tenant"].save()
    assert rotate(api, key, raw).status_code in (200, 201)
    key.refresh_from_db()
    assert abs((key.expires_at - soon).total_seconds()) < 1
