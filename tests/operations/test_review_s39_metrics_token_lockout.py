"""``/metrics`` with a bearer token (SPEC §12) is an authentication like any other: repeated
wrong tokens from one client address lead to the timed lockout of SPEC §6 (429
``LOCKED_OUT`` with ``Retry-After`` in the catalog format), while the right token, and an
address the allowlist admits, are never locked out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

TOKEN = "metrics-token-" + "q" * 32
STRANGER = "203.0.113.41"

pytestmark = pytest.mark.django_db


def wrong(client: Client, n: int) -> Any:
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer wrong-guess-{n:04d}")


@override_settings(TATER_METRICS_TOKEN=TOKEN, TATER_METRICS_ALLOWED_IPS=[], TATER_LOCKOUT_CLIENT_FAILURES=3)
def test_wrong_tokens_lock_the_address_out() -> None:
    client = Client(REMOTE_ADDR=STRANGER)
    statuses = [wrong(client, n).status_code for n in range(2)]
    assert statuses == [404, 404]  # still nothing that tells a stranger the endpoint exists
    locked = wrong(client, 2)
    assert locked.status_code == 429
    assert locked.json()["error"] == "LOCKED_OUT"
    assert int(locked["Retry-After"]) > 0
    assert locked["Cache-Control"] == "no-store"
    again = wrong(client, 3)
    assert again.status_code == 429 and again.json()["error"] == "LOCKED_OUT"
    # The lock is the address's, shared with the API: a bad key from it is refused too.
    api = client.get("/api/v1/keys/", HTTP_X_API_KEY="tater_" + "0" * 32)
    assert api.status_code == 429 and api.json()["error"] == "LOCKED_OUT"
    # The right token is never locked out.
    right = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert right.status_code == 200
    assert b"tater_http_requests_total" in right.content
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.77")
    assert wrong(other, 9).status_code == 404


@override_settings(TATER_METRICS_TOKEN=TOKEN, TATER_LOCKOUT_CLIENT_FAILURES=3)
def test_failures_of_the_api_count_towards_the_metrics_lock() -> None:
    client = Client(REMOTE_ADDR=STRANGER)
    for n in range(2):
        assert client.get("/api/v1/keys/", HTTP_X_API_KEY=f"tater_{n:032x}").status_code == 401
    assert wrong(client, 0).status_code == 429


@override_settings(TATER_METRICS_TOKEN="", TATER_METRICS_ALLOWED_IPS=[], TATER_LOCKOUT_CLIENT_FAILURES=3)
def test_without_a_configured_token_guesses_count_the_same() -> None:
    """The lockout does not tell whether a token is configured: guesses count either way."""
    client = Client(REMOTE_ADDR=STRANGER)
    assert [wrong(client, n).status_code for n in range(3)] == [404, 404, 429]


@override_settings(TATER_METRICS_TOKEN=TOKEN, TATER_LOCKOUT_CLIENT_FAILURES=3)
def test_an_admitted_address_with_a_stale_token_is_not_counted() -> None:
    """A scraper on the allowlist (loopback by default) still sending an old token reads the
    metrics, and its scrapes are not failures that would lock its address out."""
    client = Client(REMOTE_ADDR="127.0.0.1")
    for n in range(5):
        assert wrong(client, n).status_code == 200
    assert client.get("/api/v1/keys/", HTTP_X_API_KEY="tater_" + "1" * 32).status_code == 401


@override_settings(TATER_METRICS_TOKEN=TOKEN, TATER_LOCKOUT_CLIENT_FAILURES=3)
def test_no_credential_is_not_a_failure() -> None:
    client = Client(REMOTE_ADDR=STRANGER)
    for _ in range(5):
        assert client.get("/metrics").status_code == 404
    assert wrong(client, 0).status_code == 404
