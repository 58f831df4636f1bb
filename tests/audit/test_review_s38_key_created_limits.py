"""SPEC §7 "what changed": ``api_key.created`` names every restriction the key was born
with: a per-key rate limit and a usage limit (set by the caller, or inherited from the API
key that made it) and its metadata, as well as scopes, expiry and allowlist. A later
``api_key.updated`` shows ``from`` those values; without them in the creation entry nobody
reading the log could tell what a key was allowed when it was made."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_key


def _entry(api: Any, raw: str, action: str, key_id: str) -> dict[str, Any]:
    r = api.get("/api/v1/audit-log/", {"action": action}, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    (entry,) = [e for e in r.json()["entries"] if e["target"]["id"] == key_id]
    return entry


@pytest.mark.django_db
def test_creation_names_the_rate_and_usage_limits_and_metadata(api, world) -> None:
    r = api.post(
        "/api/v1/keys/",
        {
            "name": "nightly export",
            "scopes": ["scans:read"],
            "rate_limit": "5/60s",
            "usage_limit": 1000,
            "usage_refill": "daily",
            "metadata": {"team": "ops"},
        },
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 201, r.content
    changes = _entry(api, world["owner_raw"], "api_key.created", r.json()["id"])["changes"]
    assert changes["rate_limit"] == {"to": "5/60s"}
    assert changes["usage_limit"] == {"to": 1000}
    assert changes["usage_refill"] == {"to": "daily"}
    assert changes["metadata"] == {"keys": ["team"]}  # its keys, as api_key.updated shows them


@pytest.mark.django_db
def test_a_rate_limit_inherited_from_the_calling_key_is_named(api, world) -> None:
    _, limited_raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], name="limited", rate_limit="10/60s"
    )
    r = api.post("/api/v1/keys/", {"name": "child"}, format="json", HTTP_X_API_KEY=limited_raw)
    assert r.status_code == 201, r.content
    assert r.json()["rate_limit"] == "10/60s"
    changes = _entry(api, world["owner_raw"], "api_key.created", r.json()["id"])["changes"]
    assert changes["rate_limit"] == {"to": "10/60s"}


@pytest.mark.django_db
def test_a_key_without_limits_records_none(api, world) -> None:
    r = api.post("/api/v1/keys/", {"name": "plain"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201, r.content
    changes = _entry(api, world["owner_raw"], "api_key.created", r.json()["id"])["changes"]
    assert changes["rate_limit"] == {"to": ""}
    assert changes["usage_limit"] == {"to": None}
    assert "metadata" not in changes
