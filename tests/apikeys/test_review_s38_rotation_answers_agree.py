"""A key that expires in 30 minutes, rotated with the default 24-hour grace: its old secret
stops working with the key, in 30 minutes (validate says so). The rotate answer
(``previous_key_valid_until``), the key's ``rotation.previous_valid_until`` (and the show-once
and rotate pages, which read the same ``ApiKey.previous_secret_ends``) still promised the full 24 hours, so an integrator planned a
deployment for tomorrow and found the old secret refused today."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import make_key

pytestmark = pytest.mark.django_db


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_old_secrets_end_is_the_keys_expiry_when_that_comes_first(api, world) -> None:
    expires = timezone.now() + timedelta(minutes=30)
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], expires_at=expires)
    r = api.post(f"/api/v1/keys/{key.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert _instant(r.json()["previous_key_valid_until"]) == expires

    detail = api.get(f"/api/v1/keys/{key.public_id}/", HTTP_X_API_KEY=r.json()["key"])
    assert detail.status_code == 200, detail.content
    assert _instant(detail.json()["rotation"]["previous_valid_until"]) == expires
    assert _instant(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).json()["expires_at"]) == expires
