"""``/healthz`` and ``/readyz`` (SPEC §12): liveness touches nothing; readiness asks the
database and Redis under a short deadline and answers 503 in the catalog format when one
is down."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from tater.operations import probes
from tests.conftest import REAL_SERVICES


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_answers_without_database_or_redis() -> None:
    """No ``db`` fixture: any database access would fail the request (pytest-django blocks
    it). Redis on a closed port: a Redis access would fail or hang."""
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["X-Request-ID"]


def test_probes_answer_by_ip_over_plain_http_in_production_posture() -> None:
    """Probes address a node by its IP over plain HTTP: neither ALLOWED_HOSTS nor the
    HTTPS redirect may refuse them (they do refuse everything else)."""
    with override_settings(ALLOWED_HOSTS=["tater.example.com"], SECURE_SSL_REDIRECT=True):
        client = Client(HTTP_HOST="10.1.2.3:8000")
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/health").status_code == 400  # DisallowedHost, as before


def test_healthz_head_and_wrong_method() -> None:
    client = Client()
    assert client.head("/healthz").status_code == 200
    refused = client.post("/healthz")
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"


def test_existing_api_health_is_unchanged() -> None:
    assert Client().get("/api/v1/health").json() == {"status": "ok"}


# --- /readyz ------------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_readyz_without_redis_checks_the_database() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert response["Cache-Control"] == "no-store"


def assert_catalog_503(response: Any) -> dict[str, Any]:
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["error"] == "SERVICE_UNAVAILABLE" and body["message"]
    assert body["request_id"] == response["X-Request-ID"]
    assert int(response["Retry-After"]) > 0
    return body


@pytest.mark.django_db
def test_readyz_redis_unreachable_is_503_naming_it() -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        body = assert_catalog_503(Client().get("/readyz"))
    assert body["details"] == {"database": "ok", "redis": "down"}
    assert "redis" in body["message"]
    assert time.monotonic() - started < 5


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_readyz_database_down_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> None:
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr(probes, "check_database", refused)
    body = assert_catalog_503(Client().get("/readyz"))
    assert body["details"] == {"database": "down"}


@pytest.mark.django_db
@override_settings(REDIS_URL="", TATER_READY_TIMEOUT=0.2)
def test_readyz_hanging_dependency_is_down_within_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that never answers (a dropped SYN) is reported within the deadline, and a
    check still hanging is not started again by the next probe."""
    release = threading.Event()
    calls = []

    def hangs() -> None:
        calls.append(1)
        release.wait(10)

    monkeypatch.setattr(probes, "check_database", hangs)
    try:
        for _ in range(3):
            started = time.monotonic()
            body = assert_catalog_503(Client().get("/readyz"))
            assert body["details"] == {"database": "down"}
            assert time.monotonic() - started < 2
        assert len(calls) == 1
    finally:
        release.set()


@pytest.mark.realservices
@pytest.mark.django_db
def test_readyz_on_real_postgres_and_redis() -> None:
    assert REAL_SERVICES
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
