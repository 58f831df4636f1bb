"""SPEC §7 "what changed", before and after where something was replaced: ``api_key.rotated``
names the secret it retired by its display prefix as well as the new one's (the prefix is
what the key list, the usage chart and a leaked-key mail show; never a secret)."""

from __future__ import annotations

from typing import Any

import pytest


def _entry(api: Any, raw: str, action: str, key_id: str) -> dict[str, Any]:
    r = api.get("/api/v1/audit-log/", {"action": action}, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    (entry,) = [e for e in r.json()["entries"] if e["target"]["id"] == key_id]
    return entry


@pytest.mark.django_db
def test_rotation_names_the_prefix_it_replaced(api, world) -> None:
    key = world["owner_key"]
    old_prefix = key.display_prefix
    r = api.post(f"/api/v1/keys/{key.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    changes = _entry(api, world["owner_raw"], "api_key.rotated", key.public_id)["changes"]
    assert changes["display_prefix"] == {"from": old_prefix, "to": r.json()["prefix"]}
