"""A key change the store missed reaches the store within a second of its return, from the
process that made it, without waiting for a request or a sweep (found by review: until the
next sweep, up to TATER_KEYCHECK_SWEEP_SECONDS, a process that never met the outage trusted
the generation the store kept, and admitted a key revoked meanwhile)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from apikeys import services as key_services
from apikeys.limits import gen_name
from apikeys.models import PendingInvalidation
from tater import limiter
from tater.limiter import LimiterUnavailable

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def test_a_revocation_the_store_missed_reaches_it_once_it_answers(
    api: Any, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, key, owner = world["owner_raw"], world["owner_key"], world["owner"]
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code == 200
    lim = limiter.get_limiter()
    gen = gen_name(key.digest)
    before = lim.read([gen])[gen]
    assert before is not None

    def down(*args: Any, **kwargs: Any) -> Any:
        raise LimiterUnavailable("ConnectionError: the store is down")

    with monkeypatch.context() as outage:  # this node cannot reach the store
        outage.setattr(lim.backend, "write", down)
        outage.setattr(lim.backend, "delete", down)
        key_services.apikey_revoke(api_key=key, actor=owner)
        assert PendingInvalidation.objects.filter(digest=key.digest).exists()
        time.sleep(1.5)  # retried meanwhile, in vain
        assert lim.read([gen])[gen] == before

    # The store answers again; no request is made: the retry alone brings the change.
    deadline = time.monotonic() + 5
    while lim.read([gen])[gen] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lim.read([gen])[gen] != before
