"""Review s44: a usage-limited key used up (429 ``USAGE_EXHAUSTED``, README "Leaked and worn
keys", docs/ratelimit.md) against the live server. It is final until the refill (weeks away,
or never): the client must not retry it however generous the policy, and must say so plainly,
with when the uses come back, not only a ``retry_after`` a script would sleep on. A rate
limit's 429 (``RATE_LIMITED``) stays retried within the budget (tests/client/test_retries.py).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from tater_client import ALL_METHODS, RateLimited, RetryPolicy
from tater_client.cli import main

GENEROUS = RetryPolicy(max_attempts=5, max_total_wait=10**9, methods=ALL_METHODS)


def _used_up(acme, refill: str) -> str:
    _, raw = acme.key(usage_limit=1, usage_refill=refill, name=f"trial {refill or 'once'}")
    return raw


@pytest.mark.parametrize("refill", ["monthly", ""])
def test_a_used_up_key_is_refused_once_and_said_to_be_used_up(acme, connect, counting, refill):
    tater = connect(_used_up(acme, refill), transport=counting, retry=GENEROUS)
    slept: list[float] = []
    tater._sleep = slept.append
    assert tater.validate().valid  # the one use

    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        tater.keys.list()
    assert time.monotonic() - started < 5 and slept == []
    assert counting.statuses() == [200, 429]  # never sent again

    error = caught.value
    assert (error.status, error.code) == (429, "USAGE_EXHAUSTED")
    from tater_client import UsageExhausted  # a RateLimited a script can tell apart

    assert isinstance(error, UsageExhausted)
    assert error.limit == 1 and error.refill == (refill or None)
    if refill:
        now = datetime.now(UTC)
        assert error.resets_at is not None and error.resets_at.tzinfo is not None
        assert error.resets_at > now and error.resets_at.day == 1  # the 1st of next month, 00:00 UTC
        assert error.retry_after is not None and error.retry_after > 0
    else:
        assert error.resets_at is None and error.retry_after is None
    assert "used up" in str(error) or "used all" in str(error)


def test_a_rate_limit_is_no_usage_exhaustion(acme, connect):
    _, raw = acme.key(rate_limit="1/min", name="once a minute")
    tater = connect(raw, retry=RetryPolicy.disabled())
    tater.validate()
    with pytest.raises(RateLimited) as caught:
        tater.validate()
    from tater_client import UsageExhausted

    assert caught.value.code == "RATE_LIMITED" and not isinstance(caught.value, UsageExhausted)


def test_the_cli_says_when_the_uses_come_back(acme, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", _used_up(acme, "monthly"))
    assert main(["--url", acme.url, "validate"]) == 0
    capsys.readouterr()
    assert main(["--url", acme.url, "keys", "list"]) == 1
    err = capsys.readouterr().err
    assert "USAGE_EXHAUSTED" in err
    # Not "retry after 2000000 seconds": the refill, as a date a person reads, and no retry advice.
    assert "resets at" in err and "retry" not in err.lower()

    assert main(["--url", acme.url, "--json", "keys", "list"]) == 1
    body = json.loads(capsys.readouterr().err)
    assert body["error"] == "USAGE_EXHAUSTED" and body["details"]["limit"] == 1 and body["details"]["resets_at"]


def test_the_cli_says_a_key_without_refill_is_done_for_good(acme, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", _used_up(acme, ""))
    assert main(["--url", acme.url, "validate"]) == 0
    capsys.readouterr()
    assert main(["--url", acme.url, "keys", "list"]) == 1
    err = capsys.readouterr().err
    assert "USAGE_EXHAUSTED" in err and "no refill" in err
