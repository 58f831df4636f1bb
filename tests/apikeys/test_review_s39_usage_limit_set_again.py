"""Found by a review of key input consistency (2026-12-06), expectations from SPEC §14
("Usage-limited keys: an optional number of uses, optionally refilled daily or monthly"):

a key's owner removed its usage limit (``"usage_limit": null``) and later set one again: the
key answered 429 ``USAGE_EXHAUSTED`` at once, and its page and ``GET keys/{id}/`` reported 0
remaining, because the uses counted under the old limit were still there (a key without a
refill keeps its count for ever). As with Stripe's and Unkey's limits, a limit set on a key
that has none starts with every use available; changing a limit the key has (its number or its
refill) keeps what was used (README, "Leaked keys" → usage-limited keys).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import make_key

pytestmark = pytest.mark.django_db
VALIDATE = "/api/v1/auth/validate"


def _uses(raw: str, n: int) -> list[int]:
    client = APIClient()
    return [client.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(n)]


@pytest.mark.parametrize("refill", ["", "daily", "monthly"])
def test_a_limit_set_again_after_its_removal_starts_fresh(api, world: dict[str, Any], refill: str) -> None:
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2, usage_refill=refill
    )
    assert _uses(raw, 3) == [200, 200, 429]
    api.force_login(world["owner"])
    url = f"/api/v1/keys/{key.public_id}/?organizationId={world['org1'].public_id}"
    assert api.patch(url, {"usage_limit": None, "usage_refill": ""}, format="json").status_code == 200
    assert _uses(raw, 1) == [200]  # unlimited meanwhile
    r = api.patch(url, {"usage_limit": 2, "usage_refill": refill}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["usage"]["remaining"] == 2, r.json()
    assert _uses(raw, 3) == [200, 200, 429]


def test_a_changed_limit_keeps_what_was_used(api, world: dict[str, Any]) -> None:
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2)
    assert _uses(raw, 2) == [200, 200]
    api.force_login(world["owner"])
    url = f"/api/v1/keys/{key.public_id}/?organizationId={world['org1'].public_id}"
    r = api.patch(url, {"usage_limit": 3}, format="json")
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 1, r.json()
    r = api.patch(url, {"usage_refill": "daily"}, format="json")
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 1, r.json()
