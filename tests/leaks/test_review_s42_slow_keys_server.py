"""GitHub's key document is fetched with a timeout (``TATER_GITHUB_SECRET_SCANNING_FETCH_TIMEOUT``,
"seconds for the whole fetch"). A server that answers, but slowly (a byte now and then, each
inside the socket timeout), held the worker far longer: the body was read in 16 KB reads that
each waited for 16 KB or the end, and the status line and headers are read the same way. A
slow or broken key server (GitHub's API degraded, a proxy in between) must not hang the
worker that took GitHub's alert (SPEC §14, §12): the alert is answered 503 within about the
timeout, and GitHub retries it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import post_signed

pytestmark = pytest.mark.django_db

TIMEOUT = 0.5
TRICKLE_FOR = 8.0  # seconds the server keeps sending, a byte every 0.1 s


def _trickle(connection: socket.socket, data: bytes) -> None:
    deadline = time.monotonic() + TRICKLE_FOR
    for byte in data:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
        try:
            connection.sendall(bytes([byte]))
        except OSError:
            return


@pytest.fixture
def trickling_server(settings: Any) -> Iterator[dict[str, Any]]:
    """A key server that sends what ``state["send"]`` makes of the request, a byte at a time."""
    state: dict[str, Any] = {}
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(65536)
                head, body = state["send"]()
                connection.sendall(head)
                _trickle(connection, body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/keys"
    settings.TATER_GITHUB_SECRET_SCANNING_FETCH_TIMEOUT = TIMEOUT
    try:
        yield state
    finally:
        stop.set()
        listener.close()


def timed_alert(api: Any, signing_key: Any) -> tuple[int, float]:
    started = time.monotonic()
    response = post_signed(api, signing_key, alert(match("tater_" + "5" * 32)))
    return response.status_code, time.monotonic() - started


def test_a_key_document_sent_a_byte_at_a_time_is_a_503_within_the_timeout(
    api: Any, signing_key: Any, trickling_server: dict[str, Any]
) -> None:
    body = b" " * 100_000
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    trickling_server["send"] = lambda: (head, body)
    status, elapsed = timed_alert(api, signing_key)
    assert status == 503
    assert elapsed < TIMEOUT * 4, f"the worker waited {elapsed:.1f} s for a {TIMEOUT} s timeout"


def test_headers_sent_a_byte_at_a_time_are_a_503_within_the_timeout(
    api: Any, signing_key: Any, trickling_server: dict[str, Any]
) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 10_000 + b"\r\n\r\n"
    trickling_server["send"] = lambda: (b"", head)
    status, elapsed = timed_alert(api, signing_key)
    assert status == 503
    assert elapsed < TIMEOUT * 4, f"the worker waited {elapsed:.1f} s for a {TIMEOUT} s timeout"
