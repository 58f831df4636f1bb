"""A refused SCIM token while the lockout store (Redis) is down (decision in docs/scim.md §1,
SPEC §6 "the lockout stops guessing", §13).

A bad SCIM token answered 503 during an outage (its failure could not be counted, so it
failed closed like a password) while a bad API key answered 401. Nothing was protected: a
SCIM token is 128 random bits like an API key, and a good token still answered 200, so the
503 already meant "wrong". What it did was hide the real problem from the operator: Entra ID
and Okta retry a 503 for hours, where a 401 surfaces "invalid credentials" (Entra quarantines
the job) so that someone fixes the token. A refused token is a 401 whether or not its failure
can be counted; a good one keeps working; checked on a real redis-server stopped mid-test."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from scim.services import tokens as token_services
from tater import redis_client
from tests.redis_servers import REDIS_SERVER, RedisProcess, _ping, _start, _wait, free_port, stop
from tests.scim.conftest import make_directory

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


class Store:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.proc: RedisProcess | None = _start(directory, "--port", self.port)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        _wait(self.proc, functools.partial(_ping, self.url))

    def down(self) -> None:
        assert self.proc is not None
        stop([self.proc])
        self.proc = None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    if REDIS_SERVER is None:
        pytest.skip("the redis-server binary is not installed")
    server = Store(tmp_path)
    redis_client.reset_client()
    try:
        with override_settings(REDIS_URL=server.url):
            yield server
    finally:
        redis_client.reset_client()
        if server.proc is not None:
            stop([server.proc])


def _scim_401(r: Any) -> None:
    assert r.status_code == 401, (r.status_code, r.content)
    assert r["Content-Type"].startswith("application/scim+json")
    assert r.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_scim_token_is_a_401_with_the_lockout_store_down(store: Store) -> None:
    acme = make_directory("Acme", "acme.test")
    revoked = token_services.scim_token_create(tenant=acme.tenant, name="old IdP", actor=acme.owner)
    token_services.scim_token_revoke(token=revoked.token, actor=acme.owner)
    client = acme.scim.client
    unknown = {"HTTP_AUTHORIZATION": "Bearer scim_" + "0" * 32}
    _scim_401(client.get("/scim/v2/Users", **unknown))  # counted while the store answers

    store.down()
    _scim_401(client.get("/scim/v2/Users", **unknown))
    _scim_401(client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {revoked.secret}"))
    _scim_401(client.get("/scim/v2/Users", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="))
    # As a bad API key on the API, and a good SCIM token keeps provisioning.
    assert client.get("/api/v1/auth/validate", HTTP_X_API_KEY="tater_" + "0" * 32).status_code == 401
    assert acme.scim.get("/Users").status_code == 200
