"""SPEC §3 (a bad body gets one clear VALIDATION_ERROR naming the field) and §12: a key's
``allowed_ips`` (at most 100) and ``scopes`` were validated item by item before their number
was checked, and every bad item went into the answer: a body of 150,000 bad addresses took
seconds and answered megabytes, something any caller with keys:write could send within its
rate limit (found by review D beside the same fault in scan uploads). The number is checked
first: one short 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"
MANY = 150_000


def post(api: Any, world: dict[str, Any], body: dict[str, Any]) -> Any:
    return api.post(
        f"{KEYS}?organizationId={world['org1'].public_id}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=world["owner_raw"],
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("allowed_ips", [None] * MANY), ("allowed_ips", [{}] * MANY), ("scopes", [1] * MANY)],
)
def test_a_huge_list_on_create_is_one_short_error(api, world, field: str, value: list[Any]) -> None:
    r = post(api, world, {"name": "many", field: value})
    assert r.status_code == 400, r.content[:300]
    assert len(r.content) < 2000
    assert r.json()["error"] == "VALIDATION_ERROR"
    assert field in r.json()["details"]["fields"]


def test_a_huge_allowlist_on_update_is_one_short_error(api, world) -> None:
    key = world["owner_key"]
    r = api.patch(
        f"{KEYS}{key.public_id}/",
        data=json.dumps({"allowed_ips": [None] * MANY}),
        content_type="application/json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 400
    assert len(r.content) < 2000
    assert "allowed_ips" in r.json()["details"]["fields"]
