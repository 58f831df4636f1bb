"""SPEC §2 rotation keeps *the* old secret valid for a grace period, and a key keeps one
previous secret: rotating again during a grace period stops the older secret at once (the
UI warns before it; the API does it as asked). SPEC §7 records what changed, yet the
second ``api_key.rotated`` entry did not say that a secret still in its grace stopped
working then: the first entry still read "valid until tomorrow", and whoever looked into
an integration that broke at the second rotation found no trace of why. Now the entry
names the secret it cut short (its display prefix) and the grace it had left."""

from __future__ import annotations

from typing import Any

import pytest

KEYS = "/api/v1/keys/"


def _rotations(api: Any, raw: str, key_id: str) -> list[dict[str, Any]]:
    r = api.get("/api/v1/audit-log/", {"action": "api_key.rotated"}, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    return [e["changes"] for e in r.json()["entries"] if e["target"]["id"] == key_id]


def _rotate(api: Any, key_id: str, raw: str, grace: int) -> dict[str, Any]:
    r = api.post(f"{KEYS}{key_id}/rotate/", {"grace_period_seconds": grace}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    return r.json()


@pytest.mark.django_db
def test_rotating_during_a_grace_records_the_secret_it_cut_short(api, world) -> None:
    key_id, first = world["owner_key"].public_id, world["owner_raw"]
    second = _rotate(api, key_id, first, 24 * 3600)
    third = _rotate(api, key_id, second["key"], 3600)
    stopped = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=first)  # stopped at once, no longer known
    assert (stopped.status_code, stopped.json()["error"]) == (401, "UNAUTHORIZED")  # as the README says

    latest, earlier = _rotations(api, third["key"], key_id)
    assert "previous_secret_ended" not in earlier  # nothing was in its grace then
    assert latest["previous_secret_ended"] == {
        "prefix": world["owner_key"].display_prefix,
        "was_valid_until": earlier["previous_secret_valid_until"],
    }


@pytest.mark.django_db
def test_rotating_after_the_grace_cuts_nothing_short(api, world) -> None:
    key_id = world["owner_key"].public_id
    second = _rotate(api, key_id, world["owner_raw"], 0)
    third = _rotate(api, key_id, second["key"], 3600)
    assert all("previous_secret_ended" not in changes for changes in _rotations(api, third["key"], key_id))
