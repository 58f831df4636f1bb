"""The show-once page of an unbound (tenant-wide) key with full access: its examples must work
when pasted. Scan upload is a write endpoint, which needs an org-bound key (SPEC §4, §5):
pasted as shown, the upload answered 401 'Unbound API key may not scope to a specific org'.
Such a key now gets the listing examples (scans of the named org), which answer 200."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _snippets(body: str) -> dict[str, str]:
    found = re.finditer(r'<code id="snip-([a-z]+)">(.*?)</code>', body, re.S)
    return {m.group(1): html.unescape(m.group(2)) for m in found}


@pytest.mark.parametrize("rotate", [False, True], ids=["created", "rotated"])
def test_unbound_full_access_key_examples_answer_200(world: dict[str, Any], client_for: Any, rotate: bool) -> None:
    browser = client_for(world["owner"])
    data = {"type": "standard", "name": "tenant-wide", "binding": "unbound", "preset": "full", "expires_in": "30"}
    response = browser.post(reverse("apikey_create"), data)
    assert response.status_code == 200, response.content.decode()[:2000]
    if rotate:
        key = response.context["api_key"]
        response = browser.post(reverse("apikey_rotate", args=[key.public_id]), {"grace_period_seconds": "0"})
        assert response.status_code == 200, response.content.decode()[:2000]
    assert response.context["api_key"].organization is None
    snippets = _snippets(response.content.decode())
    secret = response.context["secret"]

    curl = snippets["curl"]
    url = re.search(r'curl (?:-X POST )?"([^"]+)"', curl).group(1)
    parts = urlsplit(url)
    api = APIClient()
    if "-X POST" in curl:
        answer = api.post(
            f"{parts.path}?{parts.query}",
            data=b'{"scanner": "nmap", "target": "10.0.0.0/24", "findings": []}',
            content_type="application/json",
            HTTP_X_API_KEY=secret,
        )
    else:
        answer = api.get(f"{parts.path}?{parts.query}", HTTP_X_API_KEY=secret)
    assert answer.status_code in (200, 201), (curl, answer.content[:300])
    # The PowerShell and Python examples call the same thing.
    assert ("Method POST" in snippets["powershell"]) == ("-X POST" in curl)
    assert ("requests.post" in snippets["python"]) == ("-X POST" in curl)
