"""A create form submitted with an expiry beyond the tenant's maximum key lifetime (or
"Never expires"), e.g. a page opened before an admin set the maximum, says what the rule
is on the Expires field, not Django's "Select a valid choice" / "This field is required",
and keeps what the user typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("expires_in", ["365", "", "31"])
def test_expiry_beyond_the_tenants_maximum_names_the_maximum(
    world: dict[str, Any], client_for: Any, expires_in: str
) -> None:
    tenant = world["tenant"]
    tenant.max_key_lifetime_days = 30
    tenant.save()
    response = client_for(world["owner"]).post(
        reverse("apikey_create"),
        {
            "type": "standard",
            "name": "nightly sync",
            "binding": "org",
            "preset": "read_only",
            "expires_in": expires_in,
            "allowed_ips": "203.0.113.0/24",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["expires_in"]
    message = errors["expires_in"][0]
    assert "30 days" in message and "Select a valid choice" not in message and "required" not in message
    body = response.content.decode()
    assert 'value="nightly sync"' in body and "203.0.113.0/24" in body
    assert not ApiKey.objects.filter(name="nightly sync").exists()
