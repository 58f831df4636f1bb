"""The show-once page's ready-to-paste examples work when pasted, whatever the key may do: a
key that cannot read scans (a Limited key for members or the Activity Log, a public key
for organizations) gets examples that call an endpoint it may call, not a 403."""

from __future__ import annotations

import ast
import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CASES = [
    {"type": "standard", "name": "members only", "binding": "org", "preset": "limited", "perm_members": "read"},
    {"type": "standard", "name": "audit only", "binding": "org", "preset": "limited", "perm_audit": "read"},
    {"type": "standard", "name": "keys only", "binding": "org", "preset": "limited", "perm_keys": "read"},
    {"type": "public", "name": "orgs only", "perm_organizations": "read"},
    {"type": "standard", "name": "scans reader", "binding": "org", "preset": "limited", "perm_scans": "read"},
]


def _snippets(body: str) -> dict[str, str]:
    found = re.finditer(r'<code id="snip-([a-z]+)">(.*?)</code>', body, re.S)
    return {m.group(1): html.unescape(m.group(2)) for m in found}


@pytest.mark.parametrize("data", CASES, ids=lambda d: d["name"])
def test_each_example_calls_an_endpoint_the_key_may_call(
    world: dict[str, Any], client_for: Any, data: dict[str, str]
) -> None:
    response = client_for(world["owner"]).post(reverse("apikey_create"), {"expires_in": "30", **data})
    assert response.status_code == 200, response.content.decode()[:2000]
    snippets = _snippets(response.content.decode())
    secret = response.context["secret"]

    # curl: the URL and header as pasted.
    curl = snippets["curl"]
    url = re.search(r'curl "([^"]+)"', curl).group(1)
    assert f'-H "X-API-Key: {secret}"' in curl and "-X POST" not in curl
    parts = urlsplit(url)
    assert parts.netloc == "testserver"
    answer = APIClient().get(f"{parts.path}?{parts.query}", HTTP_X_API_KEY=secret)
    assert answer.status_code == 200, (url, answer.content[:300])

    # Python: valid code that GETs the same URL with the key in X-API-Key.
    python = snippets["python"]
    ast.parse(python)
    assert f"'{parts.scheme}://{parts.netloc}{parts.path}'" in python
    assert "headers = {'X-API-Key': api_key}" in python and f"api_key   = '{secret}'" in python

    # PowerShell: the same path.
    powershell = snippets["powershell"]
    assert f'$uri = "{parts.scheme}://{parts.netloc}{parts.path}?' in powershell
    assert f"$apiKey = '{secret}'" in powershell
