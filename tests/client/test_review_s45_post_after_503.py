"""Review s45: with ``RetryPolicy(methods=ALL_METHODS)`` a create, upload or rotation was sent
again after a 503, as if a 503 were always a refusal before acting. It is not: Tater answers
503 ``SERVICE_UNAVAILABLE`` when its database connection drops mid-request (at the commit the
write may have landed), and a proxy in front answers 503 for an upstream reset after the
request reached it. The second send minted a second key (SPEC §6 retries; README "Retries":
never re-send a POST the server may have applied). A POST or PATCH is re-sent only after a
rate limit's 429 (the limiter refuses before any view runs) or a connection never made.
"""

from __future__ import annotations

import httpx
import pytest
from tater_client import ALL_METHODS, RetryPolicy, ServerError, Tater


def _issued() -> dict[str, object]:
    return {"id": "key-1", "name": "ci", "key": "secret-" + "x" * 8, "status": "active"}


class Script:
    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.methods: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        return self.answers.pop(0)


def _client(script: Script) -> Tater:
    client = Tater(
        "tater_" + "2" * 32,
        base_url="https://tater.test",
        transport=httpx.MockTransport(script),
        retry=RetryPolicy(methods=ALL_METHODS),
    )
    client._sleep = lambda seconds: None
    return client


def _503() -> httpx.Response:
    body = {"error": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable", "request_id": "r"}
    return httpx.Response(503, json=body, headers={"Retry-After": "1"})


@pytest.mark.parametrize("call", ["create", "rotate", "update"])
def test_a_write_answered_503_is_not_sent_again(call):
    script = Script(_503(), httpx.Response(201, json=_issued()))
    with _client(script) as tater, pytest.raises(ServerError) as caught:
        if call == "create":
            tater.keys.create("ci")
        elif call == "rotate":
            tater.keys.rotate("key-1")
        else:
            tater.keys.update("key-1", name="ci")
    assert len(script.methods) == 1 and caught.value.code == "SERVICE_UNAVAILABLE"


def test_a_rate_limited_write_and_a_503_read_are_still_retried():
    limited = httpx.Response(429, json={"error": "RATE_LIMITED", "message": "slow"}, headers={"Retry-After": "1"})
    script = Script(limited, httpx.Response(201, json=_issued()))
    with _client(script) as tater:
        assert tater.keys.create("ci").id == "key-1"
    assert script.methods == ["POST", "POST"]
    script = Script(_503(), httpx.Response(200, json={"valid": True, "id": "key-1"}))
    with _client(script) as tater:
        assert tater.validate().valid
    assert script.methods == ["GET", "GET"]
