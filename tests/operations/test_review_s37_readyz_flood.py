"""``/readyz`` answers anyone, ahead of host checks and without a rate limit (probes
address nodes by IP). Each answer that ran the database check made PostgreSQL accept a
new connection (a backend process forked, authenticated, torn down): a client looping on
``/readyz`` turned every request into a connection setup on the shared database, the
most expensive thing an anonymous request could make Tater do. Load balancers probe every
few seconds; a result a second old is as good to them. Within that second the last
answer stands, so a flood costs each process at most one connection a second."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db.backends.signals import connection_created
from django.test import Client, override_settings


@pytest.mark.django_db
@override_settings(REDIS_URL="", TATER_READY_MIN_INTERVAL=1.0)
def test_a_flood_of_readiness_probes_opens_one_connection_a_second() -> None:
    opened: list[Any] = []

    def count(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(connection)

    connection_created.connect(count)
    try:
        client = Client(REMOTE_ADDR="203.0.113.77")
        started = time.monotonic()
        statuses = [client.get("/readyz").status_code for _ in range(30)]
        elapsed = time.monotonic() - started
    finally:
        connection_created.disconnect(count)
    assert statuses == [200] * 30
    assert len(opened) <= int(elapsed) + 1, (len(opened), elapsed)
