"""Review s44 (SPEC §14 usage-limited keys, §2 rotation, §2a "keys only narrow", §7 audit): what
an integrator sees when a usage limit is rotated, lowered, re-refilled or removed, and that
each change is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import services as key_services
from audit.models import AuditEvent
from tests.factories import make_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"


def _use(api: Any, raw: str) -> tuple[int, Any]:
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    body = r.json()
    return r.status_code, (body["usage"]["remaining"] if r.status_code == 200 else body["error"])


def _changes(key_id: str) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(action="api_key.updated", target_id=key_id).order_by("id")
    return [e.changes for e in events]


def test_a_rotation_keeps_the_count_and_both_secrets_share_it(api: Any, world: dict[str, Any]) -> None:
    key, old = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=4)
    assert _use(api, old) == (200, 3)
    new = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=600).key
    assert _use(api, new) == (200, 2)  # not 3: the limit is the key's, not the secret's
    assert _use(api, old) == (200, 1)
    assert _use(api, new) == (200, 0)
    assert _use(api, old) == (429, "USAGE_EXHAUSTED")
    assert _use(api, new) == (429, "USAGE_EXHAUSTED")


def test_a_limit_lowered_below_what_was_used_refuses_at_once_and_is_audited(api: Any, world: dict[str, Any]) -> None:
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=10)
    for left in (9, 8, 7):
        assert _use(api, raw) == (200, left)
    r = api.patch(f"{KEYS}{key.public_id}/", {"usage_limit": 2}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200 and r.json()["usage"] == {"limit": 2, "remaining": 0, "refill": None, "resets_at": None}
    assert _use(api, raw) == (429, "USAGE_EXHAUSTED")
    assert _changes(key.public_id)[-1]["usage_limit"] == {"from": 10, "to": 2}
    # Raised again (a widening: the owner's session): what was used still counts.
    api.force_login(world["owner"])
    url = f"{KEYS}{key.public_id}/?organizationId={world['org1'].public_id}"
    assert api.patch(url, {"usage_limit": 5}, format="json").status_code == 200
    api.logout()
    assert _use(api, raw) == (200, 1)
    assert _changes(key.public_id)[-1]["usage_limit"] == {"from": 2, "to": 5}


def test_a_refill_made_rarer_through_a_key_keeps_the_count_and_is_audited(api: Any, world: dict[str, Any]) -> None:
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=3, usage_refill="daily"
    )
    assert _use(api, raw) == (200, 2)
    url = f"{KEYS}{key.public_id}/"
    r = api.patch(url, {"usage_refill": "monthly"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    assert r.json()["usage"]["refill"] == "monthly" and r.json()["usage"]["remaining"] == 2
    assert _changes(key.public_id)[-1] == {"usage_refill": {"from": "daily", "to": "monthly"}}
    # Back to daily is a widening: refused through a key, nothing recorded.
    r = api.patch(url, {"usage_refill": "daily"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 403 and r.json()["details"]["widened"] == ["usage_limit"]
    assert len(_changes(key.public_id)) == 1
    assert _use(api, raw) == (200, 1)


def test_a_limit_removed_by_the_owner_makes_the_key_unlimited_and_is_audited(api: Any, world: dict[str, Any]) -> None:
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=1, usage_refill="monthly"
    )
    assert _use(api, raw) == (200, 0)
    assert _use(api, raw) == (429, "USAGE_EXHAUSTED")
    api.force_login(world["owner"])
    url = f"{KEYS}{key.public_id}/?organizationId={world['org1'].public_id}"
    r = api.patch(url, {"usage_limit": None}, format="json")
    api.logout()
    assert r.status_code == 200 and r.json()["usage"] is None and r.json()["usage_refill"] == ""
    assert _changes(key.public_id)[-1] == {
        "usage_limit": {"from": 1, "to": None},
        "usage_refill": {"from": "monthly", "to": ""},
    }
    for _ in range(3):
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert r.status_code == 200 and r.json()["usage"] is None
