"""Review s44 (SPEC §14 "exact across processes"): a usage limit is a budget, not a rate. With
Redis down and rate limits failing open (the default), an unlimited key keeps working, but a
usage-limited key is never admitted uncounted: that would make it unlimited for as long as the
outage lasts (docs/ratelimit.md, "Usage-limited keys")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import override_settings

from tater import redis_client
from tests.factories import make_key
from tests.redis_servers import free_port

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]

VALIDATE = "/api/v1/auth/validate"


@contextmanager
def redis_down_failing_open() -> Iterator[None]:
    redis_client.reset_client()
    try:
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", TATER_RATELIMIT_FAIL_OPEN=True):
            yield
    finally:
        redis_client.reset_client()


def test_a_usage_limited_key_fails_closed_while_redis_is_down(api: Any, world: dict[str, Any]) -> None:
    _, limited = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2, usage_refill="daily"
    )
    api.raise_request_exception = False
    with redis_down_failing_open():
        assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200  # limits fail open
        for _ in range(4):
            r = api.get(VALIDATE, HTTP_X_API_KEY=limited)
            assert r.status_code == 503, r.content
            assert r.json()["error"] == "SERVICE_UNAVAILABLE" and r["Retry-After"]
    # Back up: both uses are there (none was taken, or kept, by the refusals).
    remaining = [api.get(VALIDATE, HTTP_X_API_KEY=limited).json()["usage"]["remaining"] for _ in range(2)]
    assert remaining == [1, 0]
