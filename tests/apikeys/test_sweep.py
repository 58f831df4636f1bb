"""The sweep that gives the store back the key changes it lacks costs a request little and
never waits (found by review): it read one generation per kept change, one round trip each
(1,000 after a plan change of a tenant with 1,000 keys, in the request that ran it), and it
wrote rows, so it waited on another request's open transaction (3 s)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from apikeys import keycheck
from apikeys import services as key_services
from apikeys.models import ApiKey, PendingInvalidation
from tater import limiter

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]

VALIDATE = "/api/v1/auth/validate"
SWEEP = 0.3


@pytest.fixture(autouse=True)
def sweeping(settings: Any) -> None:
    settings.TATER_KEYCHECK_SWEEP_SECONDS = SWEEP  # the test settings turn sweeps off


def test_a_sweep_reads_the_kept_changes_at_once(api: Any, world: dict[str, Any], monkeypatch: Any) -> None:
    tenant, owner, org = world["tenant"], world["owner"], world["org1"]
    ApiKey.objects.bulk_create(
        ApiKey(
            name=f"k{i}",
            tenant=tenant,
            organization=org,
            owner=owner,
            scopes=["*"],
            digest=f"{i:064x}",
            display_prefix="0000",
        )
        for i in range(1000)
    )
    tenant.plan = "pro"
    tenant.save()  # every key of the tenant changed: kept ten minutes
    reads: list[int] = []
    read = limiter.Limiter.read
    monkeypatch.setattr(limiter.Limiter, "read", lambda self, names: (reads.append(len(names)), read(self, names))[1])
    time.sleep(SWEEP + 0.1)
    assert api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"]).status_code == 200  # runs the sweep
    assert max(reads) >= 1000 and len(reads) < 5


def test_a_sweep_never_waits_for_another_requests_transaction(api: Any, world: dict[str, Any]) -> None:
    owner, key = world["owner"], world["owner_key"]
    key_services.apikey_update(api_key=key, actor=owner, name="renamed once")
    changed, held = threading.Event(), 2.0

    def another_worker() -> None:  # a key change in a transaction that takes a while
        try:
            with transaction.atomic():
                key_services.apikey_update(api_key=key, actor=owner, name="renamed twice")
                changed.set()
                time.sleep(held)
        finally:
            connection.close()

    other = threading.Thread(target=another_worker)
    other.start()
    assert changed.wait(10)
    time.sleep(SWEEP + 0.1)
    started = time.monotonic()
    response = api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"])  # an unrelated key runs the sweep
    took = time.monotonic() - started
    other.join(10)
    assert response.status_code == 200 and took < held / 2, f"waited {took:.2f}s"


def test_a_database_hiccup_after_commit_does_not_keep_a_revoked_key_alive(
    api: Any, world: dict[str, Any], monkeypatch: Any
) -> None:
    """Found by review: the change was kept in the database before the store was told, so a
    failed write after the commit skipped the store's update too, and a reader that cached the
    key while the revocation was open kept it."""
    raw, key = world["owner_raw"], world["owner_key"]
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    record = PendingInvalidation.record

    def hiccup(generations: dict[str, str]) -> None:
        if not connection.in_atomic_block:  # the write after the commit: the database hiccups
            raise OperationalError("server closed the connection unexpectedly")
        record(generations)

    monkeypatch.setattr(PendingInvalidation, "record", hiccup)

    def reader() -> None:  # another request while the revocation is open
        try:
            keycheck.check(raw, "127.0.0.1")
        finally:
            connection.close()

    with transaction.atomic():
        key_services.apikey_revoke(api_key=key, actor=world["owner"])
        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(10)
    monkeypatch.undo()
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 401
