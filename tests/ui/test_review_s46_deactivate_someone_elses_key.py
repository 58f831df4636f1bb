"""Review s46: an org admin deactivating a member's key was told "Calls with this key will fail
with 401 KEY_INACTIVE until you reactivate it", but admins may deactivate another person's key
and never reactivate it (SPEC §2a: reactivating widens, the owner's right): after confirming,
the admin found no Reactivate button and no way back. The confirmation (single and bulk) now
says who can reactivate the key: its owner, named."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_owner_is_told_they_can_reactivate(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    page = client_for(world["owner"]).get(reverse("apikey_deactivate", args=[key.public_id])).content.decode()
    assert "until you reactivate it" in page


def test_an_admin_is_told_only_the_owner_can_reactivate(world: dict[str, Any], client_for: Any) -> None:
    key = world["member_key"]
    client = client_for(world["admin"])
    page = client.get(reverse("apikey_deactivate", args=[key.public_id])).content.decode()
    assert "until you reactivate it" not in page
    assert world["member"].email in page and "only" in page.lower() and "reactivate" in page

    bulk = client.post(reverse("apikey_bulk"), {"action": "deactivate", "keys": [key.public_id]}).content.decode()
    assert "until you reactivate" not in bulk
    assert "owner" in bulk and "reactivate" in bulk
