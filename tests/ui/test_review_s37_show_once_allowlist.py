"""The show-once page says where a key works: a key limited to some addresses (its IP
allowlist) answers 403 IP_NOT_ALLOWED to the page's examples pasted anywhere else, and the
page gave no hint why. It now names the allowed networks (and the expiry)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
FORM = {"type": "standard", "name": "office only", "binding": "org", "preset": "limited", "perm_scans": "read"}


def test_the_page_names_the_networks_the_key_works_from(world: dict[str, Any], client_for: Any) -> None:
    data = {**FORM, "expires_in": "30", "allowed_ips": "203.0.113.0/24\n2001:db8::/32"}
    page = client_for(world["owner"]).post(reverse("apikey_create"), data).content.decode()
    assert "Works only from" in page
    assert "<code>203.0.113.0/24</code>" in page and "<code>2001:db8::/32</code>" in page
    assert "IP_NOT_ALLOWED" in page
    assert "expires" in page


def test_a_key_from_anywhere_says_nothing_of_addresses(world: dict[str, Any], client_for: Any) -> None:
    page = client_for(world["owner"]).post(reverse("apikey_create"), {**FORM, "expires_in": "30"}).content.decode()
    assert "Works only from" not in page
