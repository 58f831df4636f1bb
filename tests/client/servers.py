"""Servers the Python client meets in the wild, for its review tests: a fake one in process
(``httpx.MockTransport``), an endless body, and a real loopback HTTP server answering what
a test says (not Tater: a proxy, another JSON service, a hostile server)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from tater_client import RetryPolicy, Tater

KEY = "tater_" + "3fd88c926edd3a6f66a925de7df4cfe4"
BASE = "https://tater.example.com"
MIB = 1 << 20

# (path and query) -> (status, body, extra headers); the body is sent as application/json
# unless the headers name another Content-Type.
Answer = Callable[[str], tuple[int, bytes, dict[str, str]]]


def offline_client(respond: Callable[[httpx.Request], httpx.Response], **options: Any) -> Tater:
    """A client of a fake server answering with ``respond``, retrying nothing."""
    return Tater(KEY, base_url=BASE, transport=httpx.MockTransport(respond), retry=RetryPolicy.disabled(), **options)


class Endless(httpx.SyncByteStream):
    """``total`` bytes after ``prefix`` (far more than any answer); counts what the client pulls."""

    def __init__(self, prefix: bytes, total: int) -> None:
        self.prefix, self.total, self.pulled = prefix, total, 0

    def __iter__(self) -> Iterator[bytes]:
        yield self.prefix
        self.pulled += len(self.prefix)
        chunk = b" " * MIB
        while self.pulled < self.total:
            self.pulled += len(chunk)
            yield chunk


@contextmanager
def serving(answer: Answer) -> Iterator[str]:
    """A loopback HTTP server answering every GET and POST with ``answer(path)``; yields its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            status, body, headers = answer(self.path)
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
