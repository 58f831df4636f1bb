"""Rotating an expired key from the UI used to issue a new secret with the same (past)
expiry: the show-once page presented a key that every call refuses with 401 KEY_EXPIRED.
The Rotate confirmation of an expired key now says it expired and points to Edit (set a
new expiry) instead of offering a button; a POST anyway is refused and issues nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys.models import ApiKey
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_rotating_an_expired_key_points_to_a_new_expiry_first(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    key.expires_at = timezone.now() - timedelta(days=1)
    key.save()
    digest = key.digest
    client = client_for(world["owner"])
    url = reverse("apikey_rotate", args=[key.public_id])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "expired" in body and "Rotate key</button>" not in body
    assert reverse("apikey_edit", args=[key.public_id]) in body

    response = client.post(url, {"grace_period_seconds": "3600", "submit_token": "t-1"})
    assert response.status_code == 400
    assert "secret" not in (response.context or {}) or not response.context.get("secret")
    assert ApiKey.objects.get(pk=key.pk).digest == digest
    assert not AuditEvent.objects.filter(action="api_key.rotated").exists()


def test_a_key_that_has_not_expired_still_rotates(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    key.expires_at = timezone.now() + timedelta(days=3)
    key.save()
    client = client_for(world["owner"])
    url = reverse("apikey_rotate", args=[key.public_id])
    page = client.get(url)
    assert "Rotate key</button>" in page.content.decode()
    token = page.context["form"]["submit_token"].value()
    response = client.post(url, {"grace_period_seconds": "3600", "submit_token": token})
    assert response.status_code == 200 and response.context["secret"].startswith("tater_")
