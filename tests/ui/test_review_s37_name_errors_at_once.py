"""The create and edit forms report a name with a line break, a tab, an escape or a
text-direction control together with every other problem (here an invalid CIDR line), on
the name field, keeping what the user typed elsewhere: not one problem per submit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db

BAD_NAMES = ["line\nbreak", "tab\there", "\x1b[31mred", "rtl\u202eevil"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_create_reports_a_bad_name_with_the_other_errors(world: dict[str, Any], client_for: Any, name: str) -> None:
    client = client_for(world["owner"])
    before = ApiKey.objects.count()
    typed = {
        "type": "standard",
        "name": name,
        "binding": "org",
        "preset": "read_only",
        "expires_in": "30",
        "allowed_ips": "10.0.0.0/8\n203.0.113.0/33",
    }
    response = client.post(reverse("apikey_create"), typed)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "allowed_ips"}, errors
    assert "one line" in errors["name"][0]
    assert errors["allowed_ips"][0].startswith("Line 2:")
    body = response.content.decode()
    assert "10.0.0.0/8\n203.0.113.0/33" in body  # the allowlist as typed
    assert re.search(r'<input type="radio" name="preset" value="read_only"[^>]*checked', body)
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_edit_reports_a_bad_name_with_the_other_errors(world: dict[str, Any], client_for: Any, name: str) -> None:
    key = world["owner_key"]
    client = client_for(world["owner"])
    url = reverse("apikey_edit", args=[key.public_id])
    page = client.get(url)
    assert page.status_code == 200
    data = {field.html_name: field.value() or "" for field in page.context["form"]}
    data.update({"name": name, "allowed_ips": "10.0.0.0/8\n203.0.113.0/33"})
    response = client.post(url, data)
    assert response.status_code == 400, response.status_code
    errors = response.context["form"].errors
    assert set(errors) == {"name", "allowed_ips"}, errors
    key.refresh_from_db()
    assert key.name == "owner key"
