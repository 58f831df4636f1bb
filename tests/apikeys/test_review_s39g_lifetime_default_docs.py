"""The OpenAPI schema tells what a create without ``expires_at`` gets (SPEC §2, §5; decision
s39 in docs/authorization.md): no expiry, or, under the tenant's maximum key lifetime, the
longest it allows, on ``POST keys/`` and the credential exchange ``POST auth/token`` alike.
The schema described neither: a reader of ``/api/docs/`` expected a 400 or a key that never
expires."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.factories import make_tenant


def test_omitted_expiry_under_a_cap_is_the_longest_allowed(db: Any) -> None:
    """The behaviour the descriptions below must tell (read from the API)."""
    tenant, owner, _ = make_tenant(name="Capped", orgs=1)
    tenant.max_key_lifetime_days = 30
    tenant.save(update_fields=["max_key_lifetime_days"])
    client = Client()
    client.force_login(owner)
    made = client.post("/api/v1/keys/", data=json.dumps({"name": "nightly"}), content_type="application/json")
    assert made.status_code == 201, made.content
    expires = datetime.fromisoformat(made.json()["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=5)


@pytest.mark.parametrize("path", ["/api/v1/keys/", "/api/v1/auth/token"])
def test_schema_describes_the_omitted_expiry(db: Any, tmp_path: Any, path: str) -> None:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    schema = json.loads(out.read_text())
    ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    field = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["expires_at"]
    text = field.get("description", "").lower()
    assert "maximum key lifetime" in text and "longest" in text, text
