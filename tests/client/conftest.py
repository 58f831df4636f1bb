"""The Python client (clients/python) against the live server: a real HTTP server on
loopback, run by pytest-django in this process, over the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from tater_client import Tater

from audit import registry as A
from audit.models import AuditEvent
from orgs.models import Organization, Tenant
from tests.factories import add_member, make_key, make_tenant


@dataclass
class Acme:
    """An enterprise tenant (limits far away) with two orgs; the owner's full-access key
    bound to the first org."""

    url: str
    tenant: Tenant
    owner: Any
    org: Organization
    other_org: Organization
    owner_key: Any
    owner_raw: str

    def key(self, user: Any = None, org: Organization | None = None, **kwargs: Any) -> tuple[Any, str]:
        return make_key(user=user or self.owner, tenant=self.tenant, org=org or self.org, **kwargs)

    def member(self, role: str = "member") -> Any:
        return add_member(self.org, role)


@pytest.fixture
def acme(live_server: Any) -> Acme:
    tenant, owner, (org, other_org) = make_tenant(name="Acme", plan="enterprise", orgs=2)
    owner_key, owner_raw = make_key(user=owner, tenant=tenant, org=org, name="owner key")
    return Acme(live_server.url, tenant, owner, org, other_org, owner_key, owner_raw)


@pytest.fixture
def connect(acme: Acme) -> Iterator[Callable[..., Tater]]:
    """``connect(raw_key, **options)``: a client of the live server, closed after the test
    (no keep-alive connection outlives the live server's database)."""
    clients: list[Tater] = []

    def make(raw: str | None = None, **options: Any) -> Tater:
        options.setdefault("base_url", acme.url)
        client = Tater(raw or acme.owner_raw, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def tater(connect: Callable[..., Tater]) -> Tater:
    """The owner's client."""
    return connect()


class CountingTransport(httpx.BaseTransport):
    """An ``httpx.HTTPTransport`` that records each request's method and status and the
    response bytes the client has pulled from the network so far."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.calls: list[tuple[str, str, int]] = []
        self.bytes_read = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        self.calls.append((request.method, request.url.path, response.status_code))
        transport = self

        class Counted(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                for chunk in response.stream:  # type: ignore[union-attr]
                    transport.bytes_read += len(chunk)
                    yield chunk

            def close(self) -> None:
                response.close()

        return httpx.Response(
            response.status_code, headers=response.headers, stream=Counted(), extensions=response.extensions
        )

    def close(self) -> None:
        self._inner.close()

    def statuses(self) -> list[int]:
        return [status for _, _, status in self.calls]


@pytest.fixture
def counting() -> Iterator[CountingTransport]:
    transport = CountingTransport()
    yield transport
    transport.close()


def bulk_audit(acme: Acme, count: int) -> None:
    """``count`` entries in the org's log (not chained: positions after the chain's end)."""
    start = AuditEvent.objects.filter(tenant=acme.tenant).order_by("-seq").values_list("seq", flat=True).first() or 0
    when = timezone.now() - timedelta(hours=1)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                public_id=f"evt-bulk-{i}",
                tenant=acme.tenant,
                organization=acme.org,
                actor_user=acme.owner,
                actor_email=acme.owner.email,
                api_key_id=acme.owner_key.public_id,
                channel="api",
                action=A.API_KEY_UPDATED,
                target_type="apikey",
                target_id=f"key-{i}",
                target_repr=f"Key number {i}",
                changes={"name": {"from": "old", "to": f"new {i}"}},
                ip="198.51.100.4",
                user_agent="bulk/1.0",
                request_id=f"req-{i}",
                created_at=when,
                seq=start + 1 + i,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
