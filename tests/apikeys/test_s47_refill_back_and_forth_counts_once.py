"""SPEC §14 usage-limited keys "refilled daily or monthly, exact"): a key made
monthly, back to daily by its owner, and monthly again in the same month. ``uses.carry``
(daily -> monthly) sums every daily counter of the month, but the daily counter of the day it
was made daily again already holds the month's count carried into it (monthly -> daily), so
the days before it are counted twice: 9 uses in May come back as 18."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apikeys import uses
from tests.apikeys.test_review_s47_daily_to_monthly_counts_month import KEYS, Clock, _status
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def test_daily_monthly_daily_monthly_counts_each_use_once(api: Any, world: dict[str, Any], monkeypatch: Any) -> None:
    clock = Clock(datetime(2031, 5, 1, 9, tzinfo=UTC))
    monkeypatch.setattr(uses, "time", clock)
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=20, usage_refill="daily"
    )
    for day in (1, 2, 3):
        clock.at(datetime(2031, 5, day, 9, tzinfo=UTC))
        assert [_status(api, raw)[0] for _ in range(3)] == [200, 200, 200]  # 3 a day, 9 in May
    own = {"HTTP_X_API_KEY": world["owner_raw"]}
    r = api.patch(f"{KEYS}{key.public_id}/", {"usage_refill": "monthly"}, format="json", **own)
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 11, r.content
    clock.at(datetime(2031, 5, 4, 9, tzinfo=UTC))
    api.force_login(world["owner"])  # back to daily: a widening, the owner's session
    url = f"{KEYS}{key.public_id}/?organizationId={world['org1'].public_id}"
    assert api.patch(url, {"usage_refill": "daily"}, format="json").status_code == 200
    api.logout()
    r = api.patch(f"{KEYS}{key.public_id}/", {"usage_refill": "monthly"}, format="json", **own)
    # Still 9 uses in May, 20 a month: 11 left.
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 11, r.content
