"""SPEC §5a (Tatry's documented envelopes, with only the host changed) and §3: Tatry's
document writes an expired key's refusal as ``"expired_at": "2024-01-01T00:00:00Z"``, and
every other date the API returns (``created_at``, ``last_used_at``, ``expires_at``) already
ends in ``Z``. ``details.expired_at`` and a key's ``recent_ips[].last_seen`` ended in
``+00:00`` instead: one answer, two spellings of UTC, and a client that matches the
documented form (or compares strings) reads them differently. Every date is now UTC with
``Z``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
UTC_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def expired_key(world: dict[str, Any]) -> tuple[str, Any]:
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"])
    past = timezone.now() - timedelta(days=1)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=past)
    return raw, past


def test_tatrys_expired_key_refusal_writes_utc_with_z(api, world) -> None:
    raw, past = expired_key(world)
    r = api.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401
    expired_at = r.json()["error"]["details"]["expired_at"]
    assert UTC_Z.fullmatch(expired_at), expired_at
    assert parse_datetime(expired_at) == past


def test_the_catalogs_expired_key_refusal_writes_utc_with_z(api, world) -> None:
    raw, past = expired_key(world)
    r = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
    assert r.status_code == 401
    expired_at = r.json()["details"]["expired_at"]
    assert UTC_Z.fullmatch(expired_at), expired_at
    assert parse_datetime(expired_at) == past


def test_a_keys_recent_addresses_are_dated_like_its_other_dates(api, world) -> None:
    raw, key = world["owner_raw"], world["owner_key"]
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw, REMOTE_ADDR="192.0.2.1").status_code == 200
    detail = api.get(f"/api/v1/keys/{key.public_id}/", HTTP_X_API_KEY=raw, REMOTE_ADDR="192.0.2.1").json()
    assert UTC_Z.fullmatch(detail["created_at"]), detail["created_at"]
    (seen,) = detail["recent_ips"]
    assert seen["ip"] == "192.0.2.1"
    assert UTC_Z.fullmatch(seen["last_seen"]), seen
    assert abs(parse_datetime(seen["last_seen"]) - timezone.now()) < timedelta(minutes=1)
