"""Review s43: rotating a deactivated key showed the new secret with its ready-to-paste
examples and "The previous key keeps working until …", and not a word that the key is
deactivated: the examples answered 401 KEY_INACTIVE, as did the previous secret. As the page
already warns of an IP allowlist the examples would meet, it now says the key is deactivated,
that the examples get 401 KEY_INACTIVE until it is activated, and links to Activate
(SPEC §2 lifecycle, §3, §9 show-once page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apikeys import services

pytestmark = pytest.mark.django_db


def _rotate(client: Client, key: Any) -> str:
    page = client.post(f"/keys/{key.public_id}/rotate/", {"grace_period_seconds": "3600"})
    assert page.status_code == 200, page.content[:800]
    return page.content.decode()


def test_rotating_a_deactivated_key_says_the_examples_will_be_refused(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["owner"])
    key = world["owner_key"]
    services.apikey_set_active(api_key=key, actor=world["owner"], active=False)
    html = _rotate(client, key)
    assert 'id="key-inactive"' in html
    assert "KEY_INACTIVE" in html
    assert f'href="/keys/{key.public_id}/activate/' in html


def test_an_active_key_has_no_such_notice(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["owner"])
    html = _rotate(client, world["owner_key"])
    assert 'id="key-inactive"' not in html
    assert "KEY_INACTIVE" not in html
