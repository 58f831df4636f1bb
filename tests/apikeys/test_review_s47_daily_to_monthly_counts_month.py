"""Review s47 (SPEC §14 usage-limited keys, "exact"; §2a keys only narrow): a daily limit
narrowed to a monthly one holds for the month it is made in. Until then only today's count
went to the month's counter: a key that used its 3 a day for three days and was narrowed on
the fourth, just after midnight, to "3 a month" got 3 more that month (12 in a month limited
to 3). Decision (docs/ratelimit.md "Usage-limited keys"): the month counts every use of the
key's days in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apikeys import uses
from tests.apikeys.test_review_s44_usage_limit_edges import Clock
from tests.factories import make_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"


def _status(api: Any, raw: str) -> tuple[int, Any]:
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    body = r.json()
    return r.status_code, (body["usage"]["remaining"] if r.status_code == 200 else body["error"])


def _daily_key_used_on(api: Any, world: dict[str, Any], clock: Clock, days: list[tuple[int, int]]) -> tuple[Any, str]:
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=3, usage_refill="daily"
    )
    for month, day in days:
        clock.at(datetime(2031, month, day, 9, tzinfo=UTC))
        assert [_status(api, raw) for _ in range(4)] == [(200, 2), (200, 1), (200, 0), (429, "USAGE_EXHAUSTED")]
    return key, raw


def test_narrowed_to_monthly_just_after_midnight_the_month_is_used_up(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    clock = Clock(datetime(2031, 5, 1, tzinfo=UTC))
    monkeypatch.setattr(uses, "time", clock)
    key, raw = _daily_key_used_on(api, world, clock, [(5, 1), (5, 2), (5, 3)])
    clock.at(datetime(2031, 5, 4, 0, 1, tzinfo=UTC))
    r = api.patch(
        f"{KEYS}{key.public_id}/", {"usage_refill": "monthly"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 200, r.content
    assert r.json()["usage"]["remaining"] == 0
    assert _status(api, raw) == (429, "USAGE_EXHAUSTED")
    clock.at(datetime(2031, 5, 31, 23, 59, tzinfo=UTC))
    assert _status(api, raw) == (429, "USAGE_EXHAUSTED")
    clock.at(datetime(2031, 6, 1, tzinfo=UTC))  # a new month: its 3 uses
    assert [_status(api, raw) for _ in range(4)] == [(200, 2), (200, 1), (200, 0), (429, "USAGE_EXHAUSTED")]


def test_a_larger_monthly_limit_counts_the_days_of_this_month_only(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    clock = Clock(datetime(2031, 4, 30, 9, tzinfo=UTC))
    monkeypatch.setattr(uses, "time", clock)
    # The last day of April used 3 too: another month, not counted in May's.
    key, raw = _daily_key_used_on(api, world, clock, [(4, 30), (5, 1), (5, 2)])
    clock.at(datetime(2031, 5, 2, 18, tzinfo=UTC))
    assert _status(api, raw) == (429, "USAGE_EXHAUSTED")  # today's 3 are used
    # Narrowed to 3 a month: May used 6 already.
    r = api.patch(
        f"{KEYS}{key.public_id}/", {"usage_refill": "monthly"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 0, r.content
    # The owner raises it to 10 a month (a widening, their session): 4 left of May's 10.
    api.force_login(world["owner"])
    url = f"{KEYS}{key.public_id}/?organizationId={world['org1'].public_id}"
    r = api.patch(url, {"usage_limit": 10}, format="json")
    api.logout()
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 4, r.content
    assert [_status(api, raw) for _ in range(5)] == [(200, 3), (200, 2), (200, 1), (200, 0), (429, "USAGE_EXHAUSTED")]


def test_a_limit_set_again_does_not_count_the_days_of_the_earlier_one(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    """A limit set on a key that had none starts fresh (docs/ratelimit.md, s39): the days the
    earlier limit counted are not the new one's, when it is made monthly later."""
    clock = Clock(datetime(2031, 5, 1, tzinfo=UTC))
    monkeypatch.setattr(uses, "time", clock)
    key, raw = _daily_key_used_on(api, world, clock, [(5, 1)])
    api.force_login(world["owner"])
    url = f"{KEYS}{key.public_id}/?organizationId={world['org1'].public_id}"
    assert api.patch(url, {"usage_limit": None}, format="json").status_code == 200
    clock.at(datetime(2031, 5, 5, 9, tzinfo=UTC))
    r = api.patch(url, {"usage_limit": 3, "usage_refill": "daily"}, format="json")
    api.logout()
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 3, r.content
    assert _status(api, raw) == (200, 2)
    r = api.patch(
        f"{KEYS}{key.public_id}/", {"usage_refill": "monthly"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 2, r.content
