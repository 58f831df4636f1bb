"""SPEC §9 (deactivate, rotate, revoke): a key's Revoke, Deactivate or Activate pressed twice (a
double click, a reload that sends the form again, a page opened before a colleague acted)
said "“x” was revoked." again, as if the second press had done something. Like the other
pages answering a second press, it now says the key already was: nothing changed, and no
second audit entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _press(client: Client, key: Any, action: str) -> list[str]:
    done = client.post(f"/keys/{key.public_id}/{action}/", {"confirm": "on"}, follow=True)
    assert done.status_code == 200, done.content[:500]
    return [str(m) for m in done.context["messages"]]


@pytest.mark.parametrize(
    ("action", "past", "entry"),
    [("revoke", "revoked", "api_key.revoked"), ("deactivate", "deactivated", "api_key.deactivated")],
)
def test_a_second_press_says_it_already_was(world: dict[str, Any], action: str, past: str, entry: str) -> None:
    client = Client()
    client.force_login(world["owner"])
    key = world["owner_key"]
    assert _press(client, key, action) == [f"“{key.name}” was {past}."]
    again = _press(client, key, action)
    assert again == [f"“{key.name}” was already {past}: nothing changed."], again
    assert AuditEvent.objects.filter(action=entry, target_id=key.public_id).count() == 1


def test_activate_twice(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["owner"])
    key = world["owner_key"]
    _press(client, key, "deactivate")
    assert _press(client, key, "activate") == [f"“{key.name}” was reactivated."]
    assert _press(client, key, "activate") == [f"“{key.name}” was already reactivated: nothing changed."]
