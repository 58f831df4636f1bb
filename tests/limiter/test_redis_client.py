"""tater.redis_client: one client from settings for standalone, TLS and Cluster; fork-safe."""

from __future__ import annotations

import multiprocessing
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from tater import redis_client
from tater.limiter import Entity, Limiter, LimiterUnavailable, RedisBackend, Rule
from tests.limiter.conftest import REDIS_FIXTURES
from tests.redis_servers import RedisDeployment


def _settings_for(deployment: RedisDeployment) -> dict[str, Any]:
    return {"REDIS_URL": deployment.url, "REDIS_CLUSTER": deployment.cluster, "REDIS_TLS_CA_FILE": deployment.ca_file}


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    redis_client.reset_client()
    yield
    redis_client.reset_client()


@pytest.mark.parametrize("kind", ["redis", "redis-cluster", "redis-tls"])
def test_the_client_follows_settings(kind: str, request: pytest.FixtureRequest) -> None:
    deployment: RedisDeployment = request.getfixturevalue(REDIS_FIXTURES[kind])
    with override_settings(**_settings_for(deployment)):
        client = redis_client.get_client()
        assert client is redis_client.get_client()  # one per process
        assert isinstance(client, redis.RedisCluster) == deployment.cluster
        key = f"test:{uuid.uuid4().hex}"
        client.set(key, b"v", ex=10)
        assert client.get(key) == b"v"
        client.delete(key)
        # The limiter's default backend uses this very client.
        assert Limiter(RedisBackend(), fail_open=False).check(Entity(key, [Rule(60, 1)])).admitted
        client.delete(f"rl:{{{key}}}:_log")


def test_changing_settings_builds_a_new_client(redis_standalone: RedisDeployment, redis_tls: RedisDeployment) -> None:
    with override_settings(**_settings_for(redis_standalone)):
        first = redis_client.get_client()
    with override_settings(**_settings_for(redis_tls)):
        second = redis_client.get_client()
        assert second is not first
        assert second.ping()


def test_tls_verifies_the_server_certificate(redis_tls: RedisDeployment) -> None:
    """Without the CA that issued the server's certificate, the connection is refused."""
    with override_settings(REDIS_URL=redis_tls.url, REDIS_TLS_CA_FILE=""):
        limiter = Limiter(RedisBackend(), fail_open=False)
        with pytest.raises(LimiterUnavailable, match="certificate"):
            limiter.check(Entity("test:tls", [Rule(60, 1)]))


def _use_inherited_client(queue: Any) -> None:
    client = redis_client.get_client()
    queue.put((client.client_id(), bool(client.ping())))


@pytest.mark.parametrize("kind", ["redis", "redis-cluster"])
def test_a_forked_child_gets_its_own_connections(kind: str, request: pytest.FixtureRequest) -> None:
    """redis-py's pools notice the new pid and connect afresh: nothing is shared with the parent."""
    deployment: RedisDeployment = request.getfixturevalue(REDIS_FIXTURES[kind])
    with override_settings(**_settings_for(deployment)):
        client = redis_client.get_client()
        assert client.ping()  # the parent holds a live pooled connection
        parent_id = client.client_id()  # on a cluster: of the connection to its default node
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_use_inherited_client, args=(queue,))
        child.start()
        child_id, pinged = queue.get(timeout=20)
        child.join(timeout=20)
        assert child.exitcode == 0 and pinged
        assert child_id != parent_id
        assert client.client_id() == parent_id  # the parent's connection is intact
        key = f"test:{uuid.uuid4().hex}"
        client.set(key, b"ok", ex=10)
        assert client.get(key) == b"ok"
        client.delete(key)


def test_a_silent_server_costs_at_most_the_socket_timeout() -> None:
    """A Redis that accepts connections but never answers: the call gives up in time."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0", REDIS_SOCKET_TIMEOUT=0.2, REDIS_RETRIES=1):
            limiter = Limiter(RedisBackend(), fail_open=False)
            began = time.monotonic()
            with pytest.raises(LimiterUnavailable):
                limiter.check(Entity("test:silent", [Rule(60, 1)]))
            assert time.monotonic() - began < 1.5  # two tries of 0.2 s each, plus slack
