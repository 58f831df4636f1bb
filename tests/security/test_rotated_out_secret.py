"""A rotated-out secret, in its grace period, keeps its integration working, and nothing
more (SPEC §2 rotation, §2a "a key is only ever rotated by its owner"). Found by review:
whoever held the old (typically leaked) secret could rotate the key again with no grace,
receive the next secret and kill the owner's new one; or mint a key that outlives the grace
period; or narrow the allowlist to their own address."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey
from orgs.models import OrgMembership
from tests.security.test_key_attacks import SECRET, snapshot

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"


def rotated_by_owner(api: Any, world: dict[str, Any]) -> str:
    """The owner rotates the key from the signed-in session (default grace); the new secret."""
    key = world["owner_key"]
    api.force_authenticate(world["owner"])
    response = api.post(
        f"{KEYS}{key.public_id}/rotate/", {}, format="json", HTTP_X_WORKSPACE_ID=world["org1"].public_id
    )
    api.force_authenticate(None)
    assert response.status_code == 200
    return str(response.json()["key"])


def test_the_old_secret_cannot_rotate_the_key_again(api: Any, world: dict[str, Any]) -> None:
    key, old = world["owner_key"], world["owner_raw"]
    new = rotated_by_owner(api, world)
    before = snapshot(key)
    response = api.post(
        f"{KEYS}{key.public_id}/rotate/", {"grace_period_seconds": 0}, format="json", HTTP_X_API_KEY=old
    )
    assert response.status_code == 403 and response.json()["error"] == "PERMISSION_DENIED"
    assert "rotated out" in response.json()["message"] and not SECRET.search(response.content.decode())
    assert snapshot(key) == before
    assert api.get(VALIDATE, HTTP_X_API_KEY=new).status_code == 200  # the owner's secret lives


def test_the_old_secret_can_neither_change_revoke_nor_mint_keys(api: Any, world: dict[str, Any]) -> None:
    key, old = world["owner_key"], world["owner_raw"]
    rotated_by_owner(api, world)
    before, count = snapshot(key), ApiKey.objects.count()
    attempts = [
        api.patch(f"{KEYS}{key.public_id}/", {"allowed_ips": ["203.0.113.7/32"]}, format="json", HTTP_X_API_KEY=old),
        api.post(f"{KEYS}{key.public_id}/revoke/", {}, format="json", HTTP_X_API_KEY=old),
        api.post(f"{KEYS}{key.public_id}/deactivate/", {}, format="json", HTTP_X_API_KEY=old),
        api.post(KEYS, {"name": "outlives the grace", "scopes": ["*"]}, format="json", HTTP_X_API_KEY=old),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert snapshot(key) == before and ApiKey.objects.count() == count


def test_the_old_secret_still_works_for_its_integration(api: Any, world: dict[str, Any]) -> None:
    key, old = world["owner_key"], world["owner_raw"]
    new = rotated_by_owner(api, world)
    answer = api.get(VALIDATE, HTTP_X_API_KEY=old).json()
    assert answer["valid"] and "keys:read" in answer["permissions"] and "keys:write" not in answer["permissions"]
    assert api.get(KEYS, HTTP_X_API_KEY=old).status_code == 200
    assert api.get("/api/v1/scans/", HTTP_X_API_KEY=old).status_code == 200
    # The current secret manages its key as before.
    assert "keys:write" in api.get(VALIDATE, HTTP_X_API_KEY=new).json()["permissions"]
    response = api.post(
        f"{KEYS}{key.public_id}/rotate/", {"grace_period_seconds": 0}, format="json", HTTP_X_API_KEY=new
    )
    assert response.status_code == 200 and SECRET.fullmatch(response.json()["key"])


def test_the_old_secret_cannot_add_a_member_who_outlives_it(api: Any, world: dict[str, Any]) -> None:
    """Found by review: members:write let the old secret's holder add an account of theirs as
    an org admin, who mints keys long after the grace period."""
    org, old = world["org1"], world["owner_raw"]
    rotated_by_owner(api, world)
    attacker = world["other_owner"]
    response = api.post(
        f"/api/v1/organizations/{org.public_id}/members/",
        {"email": attacker.email, "role": "admin"},
        format="json",
        HTTP_X_API_KEY=old,
    )
    assert response.status_code == 403 and "rotated out" in response.json()["message"]
    assert not OrgMembership.objects.filter(organization=org, user=attacker).exists()
