"""Public keys read business data only (SPEC §2a): a scope they could never use is refused.

A public key created with ``audit:read`` or ``keys:read`` was accepted and then refused by
every endpoint those scopes name: the creator saw a key that claimed a permission it never
had. The presets stay accepted (``*:read`` on a public key reads what a public key may).
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey
from tests.factories import make_key

KEYS = "/api/v1/keys/"


def create(api: Any, raw: str, scopes: list[str]) -> Any:
    return api.post(KEYS, {"name": "dash", "type": "public", "scopes": scopes}, format="json", HTTP_X_API_KEY=raw)


@pytest.mark.parametrize("scope", ["audit:read", "keys:read", "members:read"])
def test_a_public_key_cannot_be_created_with_a_scope_it_can_never_use(
    api: Any, world: dict[str, Any], scope: str
) -> None:
    before = ApiKey.objects.count()
    r = create(api, world["owner_raw"], ["scans:read", scope])
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert scope in body["message"]
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("scopes", [["*:read"], ["scans:read"], ["organizations:read", "scans:read"]])
def test_business_data_scopes_and_the_read_only_preset_are_accepted(
    api: Any, world: dict[str, Any], scopes: list[str]
) -> None:
    r = create(api, world["owner_raw"], scopes)
    assert r.status_code == 201, r.content


def test_a_public_key_cannot_be_changed_to_a_scope_it_can_never_use(api: Any, world: dict[str, Any]) -> None:
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public", scopes=["*:read"]
    )
    r = api.patch(
        f"{KEYS}{key.public_id}/", {"scopes": ["audit:read"]}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR"
    key.refresh_from_db()
    assert key.scopes == ["*:read"]
