"""Review s46: the key pages named one state four ways: the list's badge and status filter
said "Inactive", its quick filter "Deactivated", the buttons and confirmation "Activate",
the Activity Log "reactivated". The UI now says what SPEC §2 says, everywhere a signed-in
person looks: a key is *deactivated* (badge, filters, messages) and *reactivated* (buttons,
confirmation, messages); the API's status value stays ``inactive``."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

OTHER_WORDS = re.compile(r"\b(inactive|activated?)\b", re.IGNORECASE)


def visible_text(response: Any) -> str:
    """What a reader sees: the body without tags, attributes, scripts or styles."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def assert_one_vocabulary(response: Any) -> str:
    text = visible_text(response)
    assert not OTHER_WORDS.findall(text), OTHER_WORDS.findall(text)
    return text


def test_a_deactivated_key_reads_deactivated_and_reactivate(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    key = world["owner_key"]

    page = client.get(reverse("apikey_deactivate", args=[key.public_id]))
    assert "reactivate" in assert_one_vocabulary(page)  # "... until you reactivate it"
    done = client.post(reverse("apikey_deactivate", args=[key.public_id]), follow=True)
    assert "was deactivated" in assert_one_vocabulary(done)

    listing = assert_one_vocabulary(client.get(reverse("apikey_list")))
    assert re.search(r"\bDeactivated\b", listing) and re.search(r"\bReactivate\b", listing)
    filtered = client.get(reverse("apikey_list"), {"status": "inactive"})
    assert key.name in assert_one_vocabulary(filtered)  # the API value still filters

    detail = assert_one_vocabulary(client.get(reverse("apikey_detail", args=[key.public_id])))
    assert re.search(r"\bDeactivated\b", detail) and re.search(r"\bReactivate\b", detail)
    assert re.search(r"\bDeactivated\b", assert_one_vocabulary(client.get(reverse("dashboard"))))

    confirm = assert_one_vocabulary(client.get(reverse("apikey_activate", args=[key.public_id])))
    assert "Reactivate key" in confirm
    again = client.post(reverse("apikey_activate", args=[key.public_id]), follow=True)
    assert "was reactivated" in assert_one_vocabulary(again)


def test_bulk_deactivation_confirms_with_the_same_words(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    key = world["owner_key"]
    client.post(reverse("apikey_deactivate", args=[key.public_id]))
    confirm = client.post(reverse("apikey_bulk"), {"action": "revoke", "keys": [key.public_id]})
    assert re.search(r"\bDeactivated\b", assert_one_vocabulary(confirm))
