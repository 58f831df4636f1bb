"""Review s43: a revoked key's Rotate, Deactivate, Activate and Revoke pages (reached with the
browser's Back button after revoking it, or a link opened before a colleague revoked it) still
asked "Rotate “x”?" with the button, and pressing it answered "Please correct the highlighted
fields below: This key has been revoked", with the same button again. As on the key's own page,
which offers no action once it is revoked, they now say it was revoked, that revocation is final,
and lead back to the key, without a button that can only fail (SPEC §2 lifecycle, §9)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apikeys import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["rotate", "deactivate", "activate", "revoke"])
def test_a_revoked_keys_action_pages_offer_nothing_to_press(world: dict[str, Any], action: str) -> None:
    client = Client()
    client.force_login(world["owner"])
    key = world["owner_key"]
    services.apikey_revoke(api_key=key, actor=world["owner"])
    url = f"/keys/{key.public_id}/{action}/"

    for page in (client.get(url), client.post(url, {"confirm": "on", "grace_period_seconds": "0"})):
        if page.status_code == 302:  # Revoke pressed again: "already revoked" (test_s39_key_action_twice)
            continue
        text = page.content.decode()
        assert page.status_code in (200, 400), text[:500]
        assert "revocation is final" in text
        assert f'href="/keys/{key.public_id}/' in text
        assert '<button type="submit"' not in text.split("<main", 1)[1], text
        assert "Please correct" not in text
