"""Rotating a key whose previous rotation is still in its grace period cuts the older
secret off at once (a key keeps one previous secret). The Rotate confirmation says so,
naming that secret's prefix and its remaining grace, before the user confirms; a key with
no rotation in progress gets no such warning."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apikeys import services

pytestmark = pytest.mark.django_db


def _confirm_page(client: Any, key: Any) -> str:
    response = client.get(reverse("apikey_rotate", args=[key.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_rotate_confirmation_warns_that_the_older_secret_stops_now(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    client = client_for(world["owner"])
    assert "already rotated" not in _confirm_page(client, key)
    first_prefix = key.display_prefix
    services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=24 * 3600)
    page = _confirm_page(client, key)
    assert f"{first_prefix}…" in page
    assert "already rotated" in page and "in 23 h" in page and "stops working as soon as you rotate" in page
