"""SPEC §14 usage-limited keys ("an optional number of uses, optionally refilled daily or
monthly"). Removing a daily-refilled key's limit with `{"usage_limit": null}` answered 400
"A refill needs a usage limit": the refill belongs to the limit, and a Stripe or GitHub user
removing a limit expects its schedule to go with it. It now does (the key has no limit and no
refill); a refill sent with no limit is still refused."""

from __future__ import annotations

import pytest

from tests.factories import make_key

pytestmark = pytest.mark.django_db


def test_removing_the_limit_removes_its_refill(api, world):
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=100, usage_refill="daily"
    )
    api.force_authenticate(None)
    api.force_login(world["owner"])
    url = f"/api/v1/keys/{key.public_id}/?organizationId={world['org1'].public_id}"
    r = api.patch(url, {"usage_limit": None}, format="json")
    assert r.status_code == 200, r.content
    key.refresh_from_db()
    assert key.usage_limit is None and key.usage_refill == ""
    refused = api.patch(url, {"usage_refill": "monthly"}, format="json")
    assert refused.status_code == 400 and "usage_refill" in refused.json()["details"]["fields"]
