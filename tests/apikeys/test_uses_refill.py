"""A refill change keeps every use counted, including those other workers count under the old
refill until they see the change (found by review: the carry ran after the change was
published and took the larger count, so requests in between were free: 5 admitted on a key
limited to 3)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys import uses
from apikeys.models import PendingInvalidation
from tests.factories import make_key

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]

VALIDATE = "/api/v1/auth/validate"


def admitted(raw: str, n: int) -> int:
    client = APIClient()
    return sum(client.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200 for _ in range(n))


def test_uses_counted_under_the_old_refill_meanwhile_are_kept(world: dict[str, Any], monkeypatch: Any) -> None:
    owner = world["owner"]
    key, raw = make_key(user=owner, tenant=world["tenant"], org=world["org1"], usage_limit=3, usage_refill="daily")
    total = admitted(raw, 1)
    carry = uses.carry

    def then_another_worker(*args: Any) -> Any:
        counted_meanwhile = carry(*args)

        def worker() -> None:  # still sees the old refill: counts under its counter
            nonlocal total
            try:
                total += admitted(raw, 1)
            finally:
                connection.close()

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(10)
        return counted_meanwhile

    monkeypatch.setattr(uses, "carry", then_another_worker)
    key_services.apikey_update(api_key=key, actor=owner, usage_refill="monthly")
    total += admitted(raw, 3)
    assert total == 3


def test_uses_counted_right_after_the_change_is_published_are_kept(world: dict[str, Any], monkeypatch: Any) -> None:
    owner = world["owner"]
    key, raw = make_key(user=owner, tenant=world["tenant"], org=world["org1"], usage_limit=3, usage_refill="daily")
    total = admitted(raw, 1)
    record = PendingInvalidation.record

    def published(generations: dict[str, str]) -> None:
        nonlocal total
        record(generations)
        if not connection.in_atomic_block:  # committed and every process told: a request now
            total += admitted(raw, 1)

    monkeypatch.setattr(PendingInvalidation, "record", published)
    key_services.apikey_update(api_key=key, actor=owner, usage_refill="monthly")
    monkeypatch.undo()
    total += admitted(raw, 3)
    assert total == 3
