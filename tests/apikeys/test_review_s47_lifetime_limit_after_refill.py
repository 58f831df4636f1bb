"""Review s47 (SPEC §14 usage-limited keys; §2a keys only narrow): a lifetime limit (no refill)
set on a key that refilled counts from the period it is set in. Until then the counter of an
earlier lifetime limit never expired and was kept when larger: a key with 5 uses for life that
used 4, was given 5 a day by its owner and was narrowed back to 5 for life on a day it had used
1 had 1 use left, not 4. Decision in docs/ratelimit.md "Usage-limited keys"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apikeys import uses
from tests.apikeys.test_review_s47_daily_to_monthly_counts_month import KEYS, Clock, _status
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def test_a_lifetime_limit_set_again_counts_the_current_day_not_the_earlier_life(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    clock = Clock(datetime(2031, 5, 1, 9, tzinfo=UTC))
    monkeypatch.setattr(uses, "time", clock)
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=5)
    assert [_status(api, raw) for _ in range(4)] == [(200, 4), (200, 3), (200, 2), (200, 1)]
    # Its owner makes it 5 a day (a widening, their session): today has used 4.
    api.force_login(world["owner"])
    url = f"{KEYS}{key.public_id}/?organizationId={world['org1'].public_id}"
    r = api.patch(url, {"usage_refill": "daily"}, format="json")
    api.logout()
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 1, r.content
    clock.at(datetime(2031, 5, 2, 9, tzinfo=UTC))
    assert _status(api, raw) == (200, 4)
    # Narrowed back to 5 for life through an API key: what today used counts, the old life not.
    r = api.patch(f"{KEYS}{key.public_id}/", {"usage_refill": ""}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    assert r.json()["usage"] == {"limit": 5, "remaining": 4, "refill": None, "resets_at": None}
    # And it holds for life: 4 more, then none, the next day or month included.
    assert [_status(api, raw) for _ in range(4)] == [(200, 3), (200, 2), (200, 1), (200, 0)]
    for when in (datetime(2031, 5, 3, tzinfo=UTC), datetime(2031, 6, 1, tzinfo=UTC)):
        clock.at(when)
        assert _status(api, raw) == (429, "USAGE_EXHAUSTED")


def test_a_day_exhausted_narrowed_to_lifetime_stays_exhausted(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    """The attacker's side: narrowing through an API key never frees a use of the day."""
    clock = Clock(datetime(2031, 5, 1, 9, tzinfo=UTC))
    monkeypatch.setattr(uses, "time", clock)
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2, usage_refill="daily"
    )
    assert [_status(api, raw) for _ in range(3)] == [(200, 1), (200, 0), (429, "USAGE_EXHAUSTED")]
    r = api.patch(f"{KEYS}{key.public_id}/", {"usage_refill": ""}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 0, r.content
    clock.at(datetime(2031, 5, 2, 9, tzinfo=UTC))
    assert _status(api, raw) == (429, "USAGE_EXHAUSTED")
