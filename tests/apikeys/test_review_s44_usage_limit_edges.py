"""Review s44 (SPEC §14, usage-limited keys), as an integrator: what takes a use, and when the
uses come back. The refill is at 00:00 UTC (daily) and on the 1st at 00:00 UTC (monthly,
whatever the month's length or the day the key was made); a server error is no use served."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.utils import OperationalError

from apikeys import uses
from apikeys.api import views as key_views
from tests.factories import make_key

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"


class Clock:
    """What ``apikeys.uses`` reads as the time (an instant set by the test)."""

    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def time(self) -> float:
        return self.now

    def at(self, when: datetime) -> None:
        self.now = when.timestamp()


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _status(api: Any, raw: str) -> tuple[int, str | None]:
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    return r.status_code, (r.json().get("error") if r.status_code != 200 else None)


@pytest.mark.parametrize(
    ("refill", "made", "last_moment", "refilled", "new_period"),
    [
        # Daily: UTC midnight, a leap day included.
        ("daily", _utc(2028, 2, 28, 12), _utc(2028, 2, 29, 23, 59, 59), _utc(2028, 3, 1), True),
        ("daily", _utc(2028, 2, 29), _utc(2028, 2, 29, 23, 59, 59), _utc(2028, 3, 1), False),
        # Monthly: the 1st at 00:00 UTC, for a key made on the 31st (no 31 February).
        ("monthly", _utc(2027, 1, 31, 23), _utc(2027, 2, 28, 23, 59, 59), _utc(2027, 3, 1), True),
        # A leap February and a year's end.
        ("monthly", _utc(2028, 2, 1), _utc(2028, 2, 29, 23, 59, 59), _utc(2028, 3, 1), False),
        ("monthly", _utc(2027, 12, 31, 23, 59), _utc(2027, 12, 31, 23, 59, 59), _utc(2028, 1, 1), False),
    ],
)
def test_the_refill_comes_exactly_at_the_documented_boundary(
    api: Any,
    world: dict[str, Any],
    monkeypatch: Any,
    refill: str,
    made: datetime,
    last_moment: datetime,
    refilled: datetime,
    new_period: bool,
) -> None:
    clock = Clock(made)
    monkeypatch.setattr(uses, "time", clock)
    _, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=1, usage_refill=refill
    )
    assert _status(api, raw) == (200, None)
    clock.at(last_moment)
    if new_period:
        assert _status(api, raw) == (200, None)  # a new day or month began: its one use
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert (r.status_code, r.json()["error"]) == (429, "USAGE_EXHAUSTED")
    assert r.json()["details"]["resets_at"] == refilled.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert r["Retry-After"] == "1"
    clock.at(refilled)
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert r.json()["usage"]["remaining"] == 0


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("a bug"), OperationalError("the database went away")],
    ids=["500", "503"],
)
def test_a_server_error_takes_no_use(api: Any, world: dict[str, Any], monkeypatch: Any, failure: Exception) -> None:
    """An integrator retrying through a 30-second outage must not find its daily budget gone
    when the service comes back: a 5xx is no request served (README Decisions)."""
    _, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2, usage_refill="daily"
    )
    api.raise_request_exception = False
    presented = key_views._presented_secret

    def failing(*args: Any) -> Any:
        raise failure

    monkeypatch.setattr(key_views, "_presented_secret", failing)
    for _ in range(5):
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code >= 500
    monkeypatch.setattr(key_views, "_presented_secret", presented)
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert r.json()["usage"]["remaining"] == 1
    assert _status(api, raw) == (200, None)
    assert _status(api, raw) == (429, "USAGE_EXHAUSTED")


def test_a_client_error_after_the_checks_still_takes_its_use(api: Any, world: dict[str, Any]) -> None:
    """The documented decision (docs/ratelimit.md): a request that got through authentication,
    scopes and the rate limit was served, whatever the view then says about its body."""
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2)
    r = api.patch(f"/api/v1/keys/{key.public_id}/", {"name": ""}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 400, r.content
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert r.status_code == 200 and r.json()["usage"]["remaining"] == 0
