"""Retry decisions the live server cannot be made to produce on demand (a 503, an HTTP-date
``Retry-After``, a reset-only 429, a lockout), against scripted answers. No sleeping: the
client's sleep is recorded instead."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import httpx
import pytest
from tater_client import Conflict, RateLimited, RetryPolicy, ServerError, Tater, TaterError


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": code, "message": code.lower(), "request_id": "req-1"}
    return httpx.Response(status, json=body, headers=headers or {})


def ok() -> httpx.Response:
    return httpx.Response(200, json={"valid": True, "id": "key-1"})


class Script:
    def __init__(self, *answers: httpx.Response) -> None:
        self.answers: Iterator[httpx.Response] = iter(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return next(self.answers)


@pytest.fixture
def make():
    clients: list[Tater] = []

    def build(script: Script, **options) -> tuple[Tater, list[float]]:
        client = Tater(
            "tater_" + "1" * 32, base_url="https://tater.test", transport=httpx.MockTransport(script), **options
        )
        slept: list[float] = []
        client._sleep = slept.append
        clients.append(client)
        return client, slept

    yield build
    for client in clients:
        client.close()


def test_a_503_is_retried_after_its_retry_after(make):
    script = Script(error(503, "SERVICE_UNAVAILABLE", {"Retry-After": "2"}), ok())
    client, slept = make(script)
    assert client.validate().valid
    assert slept == [2.0] and len(script.requests) == 2


def test_a_503_without_retry_after_backs_off_exponentially(make):
    script = Script(*(error(503, "SERVICE_UNAVAILABLE") for _ in range(3)))
    client, slept = make(script, retry=RetryPolicy(max_attempts=3, backoff=0.5))
    with pytest.raises(ServerError) as caught:
        client.validate()
    assert caught.value.code == "SERVICE_UNAVAILABLE" and len(script.requests) == 3
    assert 0.5 <= slept[0] <= 0.55 and 1.0 <= slept[1] <= 1.1


def test_an_http_date_retry_after(make):
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    client, slept = make(Script(error(429, "RATE_LIMITED", {"Retry-After": when}), ok()))
    client.validate()
    assert 3 <= slept[0] <= 5


def test_without_retry_after_the_rate_limit_reset_sets_the_wait(make):
    headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3)}
    client, slept = make(Script(error(429, "RATE_LIMITED", headers), ok()))
    client.validate()
    assert 1.5 <= slept[0] <= 3
    assert client.last_rate_limit is not None and client.last_rate_limit.limit == 5


@pytest.mark.parametrize("code", ["LOCKED_OUT", "USAGE_EXHAUSTED"])
def test_other_429s_are_not_retried(make, code):
    script = Script(error(429, code, {"Retry-After": "1"}))
    client, slept = make(script)
    with pytest.raises(RateLimited) as caught:
        client.validate()
    assert caught.value.code == code and caught.value.retry_after == 1.0
    assert slept == [] and len(script.requests) == 1


def test_attempts_are_bounded(make):
    script = Script(*(error(429, "RATE_LIMITED", {"Retry-After": "1"}) for _ in range(2)))
    client, slept = make(script, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(RateLimited):
        client.validate()
    assert slept == [1.0] and len(script.requests) == 2


def test_the_total_wait_is_bounded(make):
    script = Script(*(error(503, "SERVICE_UNAVAILABLE", {"Retry-After": "4"}) for _ in range(5)))
    client, slept = make(script, retry=RetryPolicy(max_attempts=5, max_total_wait=10))
    with pytest.raises(ServerError):
        client.validate()
    assert slept == [4.0, 4.0] and len(script.requests) == 3


def test_a_body_that_is_not_the_catalog_still_raises(make):
    client, _ = make(Script(httpx.Response(502, text="<html>Bad gateway</html>")), retry=RetryPolicy.disabled())
    with pytest.raises(ServerError) as caught:
        client.validate()
    assert (caught.value.status, caught.value.code, caught.value.message) == (502, "HTTP_502", "Bad Gateway")


def test_errors_are_typed_by_status(make):
    client, _ = make(Script(error(411, "LENGTH_REQUIRED")))
    with pytest.raises(TaterError) as caught:
        client.validate()
    assert type(caught.value) is TaterError and caught.value.code == "LENGTH_REQUIRED"
    client, _ = make(Script(error(409, "CONFLICT")))
    with pytest.raises(Conflict) as conflict:  # a TaterError too
        client.validate()
    assert isinstance(conflict.value, TaterError) and conflict.value.code == "CONFLICT"
