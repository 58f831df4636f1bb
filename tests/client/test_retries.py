"""Retries against the live server's real rate limiter: a key limited to one request per
two seconds (``rate_limit="1/2s"``) gets a real 429 ``RATE_LIMITED`` with ``Retry-After``.
Tests that only need the second request refused use one per minute, so a slow machine
(more than two seconds between two requests) cannot turn their 429 into a 200."""

from __future__ import annotations

import time

import pytest
from tater_client import ALL_METHODS, RateLimited, RetryPolicy

LIMIT = "1/2s"


@pytest.fixture
def limited(acme):
    return acme.key(rate_limit=LIMIT, name="limited")[1]


@pytest.fixture
def once_a_minute(acme):
    return acme.key(rate_limit="1/min", name="once a minute")[1]


def test_a_429_is_retried_after_retry_after(limited, connect, counting):
    tater = connect(limited, transport=counting)
    assert tater.validate().valid
    assert tater.last_rate_limit is not None and tater.last_rate_limit.remaining == 0

    started = time.monotonic()
    assert tater.validate().valid  # refused once, then admitted after the wait
    elapsed = time.monotonic() - started

    assert counting.statuses() == [200, 429, 200]
    assert 0.5 <= elapsed < 4  # Retry-After: the window's rest, rounded up to a second


def test_without_retries_the_error_carries_the_wait_and_the_quota(once_a_minute, connect):
    tater = connect(once_a_minute, retry=RetryPolicy.disabled())
    tater.keys.list()
    with pytest.raises(RateLimited) as caught:
        tater.keys.list()
    error = caught.value
    assert (error.status, error.code) == (429, "RATE_LIMITED")
    assert error.retry_after is not None and 1 <= error.retry_after <= 60
    assert error.rate_limit is not None
    assert (error.rate_limit.limit, error.rate_limit.remaining) == (1, 0)
    assert error.request_id


def test_a_post_is_not_retried_unless_told(once_a_minute, connect, counting):
    tater = connect(once_a_minute, transport=counting)
    tater.validate()
    started = time.monotonic()
    with pytest.raises(RateLimited):
        tater.keys.create("never sent twice", scopes=["scans:read"])
    assert time.monotonic() - started < 30  # a retry would have waited out the minute
    assert counting.statuses() == [200, 429]


def test_a_post_is_retried_when_told(limited, connect, counting):
    tater = connect(limited, transport=counting, retry=RetryPolicy(methods=ALL_METHODS))
    tater.validate()
    issued = tater.keys.create("sent again after the wait", scopes=["scans:read"])
    assert issued.name == "sent again after the wait"
    assert counting.statuses() == [200, 429, 201]


def test_a_wait_beyond_the_budget_is_not_started(once_a_minute, connect, counting):
    tater = connect(once_a_minute, transport=counting, retry=RetryPolicy(max_total_wait=0.5))
    tater.validate()
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        tater.validate()
    assert time.monotonic() - started < 30  # the minute's wait was not started
    assert caught.value.retry_after is not None and caught.value.retry_after > 0.5
    assert counting.statuses() == [200, 429]
