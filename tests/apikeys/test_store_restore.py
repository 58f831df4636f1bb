"""A store that comes back older than it was never brings a revoked key back (found by
review: a Redis restarted from a snapshot taken before a revocation, or a replica promoted
before it received it, brought back the key's old generation and the principal shared under
it, and every node admitted the key again for up to ten minutes). Key changes are kept in
the database for ten minutes; each sweep gives the store back the ones it lacks, so the key
is refused again within one sweep interval (one second here)."""

from __future__ import annotations

import functools
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from apikeys import keycheck
from apikeys import services as key_services
from apikeys.limits import gen_name
from tater import redis_client
from tests.redis_servers import REDIS_SERVER, RedisProcess, _ping, _start, _wait, free_port, stop

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]

VALIDATE = "/api/v1/auth/validate"
SWEEP = 1.0


class Restartable:
    """A redis-server of this test's own, saving its snapshot to ``dump.rdb`` on request."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.proc: RedisProcess | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = _start(self.directory, "--port", self.port, "--dbfilename", "dump.rdb")
        _wait(self.proc, functools.partial(_ping, self.url))

    def crash_and_restart(self) -> None:
        """Killed (no save on the way down), then started again from the last snapshot."""
        assert self.proc is not None
        self.proc.process.send_signal(signal.SIGKILL)
        self.proc.process.wait(timeout=5)
        self.start()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Restartable]:
    if REDIS_SERVER is None:
        pytest.skip("the redis-server binary is not installed")
    server = Restartable(tmp_path)
    redis_client.reset_client()
    try:
        with override_settings(REDIS_URL=server.url, TATER_KEYCHECK_SWEEP_SECONDS=SWEEP):
            yield server
    finally:
        redis_client.reset_client()
        if server.proc is not None:
            stop([server.proc])


@pytest.mark.parametrize("node", ["warm", "cold"])
def test_a_store_restored_from_before_a_revocation_does_not_bring_the_key_back(
    api: Any, world: dict[str, Any], store: Restartable, node: str
) -> None:
    raw, key = world["owner_raw"], world["owner_key"]
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200  # memoized and shared
    redis_client.get_client().save()  # the snapshot Redis takes on its own schedule
    key_services.apikey_revoke(api_key=key, actor=world["owner"])
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 401
    if node == "warm":
        keycheck.reset()  # a node that still holds the key as it was before the revocation
        assert api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"]).status_code == 200
    store.crash_and_restart()  # the old generation and the principal shared under it are back
    if node == "cold":
        keycheck.reset()  # a node that never saw the key
    time.sleep(SWEEP + 0.2)  # at most one sweep interval later
    refused = api.get(VALIDATE, HTTP_X_API_KEY=raw)
    assert refused.status_code == 401 and refused.json()["error"] == "KEY_REVOKED"


def test_a_sweep_leaves_generations_the_store_holds_alone(api: Any, world: dict[str, Any], store: Restartable) -> None:
    """No churn: a change the store holds is not given a new generation by every sweep."""
    key = world["owner_key"]
    key_services.apikey_revoke(api_key=key, actor=world["owner"])
    client = redis_client.get_client()
    held = client.get(gen_name(key.digest))
    for _ in range(2):
        time.sleep(SWEEP + 0.1)
        api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"])  # a request runs the sweep
    assert client.get(gen_name(key.digest)) == held
