"""SPEC §5 ``GET auth/validate``: is the *presented* key valid, its prefix and its expiry.
During a rotation's grace period the old secret still validates; validate then described
the new secret instead (its prefix, and the key's expiry, often none), so a person checking
which secret a deployment still sends was told it sends the new one, and a client watching
``expires_at`` was told "never" for a secret that stops working within the grace period
(SPEC §2: the old secret is valid for the grace period only). Now the old secret's answer
carries its own prefix and the end of its grace (or the key's expiry, when sooner)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apikeys import services
from tests.factories import make_key

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"

pytestmark = pytest.mark.django_db


def _validate(api, raw: str) -> dict:
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    return r.json()


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_old_secret_validates_as_itself_during_the_grace(api, world) -> None:
    key, old = world["owner_key"], world["owner_raw"]
    r = api.post(f"{KEYS}{key.public_id}/rotate/", {"grace_period_seconds": 3600}, format="json", HTTP_X_API_KEY=old)
    assert r.status_code == 200, r.content
    new, until = r.json()["key"], _instant(r.json()["previous_key_valid_until"])

    answered = _validate(api, old)
    assert old.startswith(answered["prefix"]) and not new.startswith(answered["prefix"])
    assert answered["expires_at"] is not None and _instant(answered["expires_at"]) == until

    current = _validate(api, new)
    assert new.startswith(current["prefix"])
    assert current["expires_at"] is None  # the key itself never expires


def test_the_old_secret_reports_the_keys_expiry_when_that_comes_first(api, world) -> None:
    expires = timezone.now() + timedelta(minutes=30)
    key, old = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], expires_at=expires)
    services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=24 * 3600)
    assert _instant(_validate(api, old)["expires_at"]) == expires


def test_after_a_prefix_change_the_old_secret_keeps_its_own_prefix(api, world, settings) -> None:
    key, old = world["owner_key"], world["owner_raw"]
    settings.TATER_KEY_PREFIXES = {**settings.TATER_KEY_PREFIXES, "standard": "taapit_"}
    r = api.post(f"{KEYS}{key.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=old)
    assert r.status_code == 200, r.content
    assert r.json()["key"].startswith("taapit_")  # a new secret is issued under today's prefix
    assert _validate(api, old)["prefix"].startswith("tater_")
    assert _validate(api, r.json()["key"])["prefix"].startswith("taapit_")


def test_tatrys_validate_says_the_same_of_an_old_secret_sent_as_a_bearer(api, world) -> None:
    key, old = world["owner_key"], world["owner_raw"]
    issued = services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=600)
    r = api.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {old}")
    assert r.status_code == 200, r.content
    answered = r.json()["data"]
    assert old.startswith(answered["prefix"]) and not issued.key.startswith(answered["prefix"])
    assert _instant(answered["expires_at"]) == issued.api_key.previous_expires_at
