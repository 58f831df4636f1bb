"""Review s35: plain http:// to loopback needs no TLS because the key never leaves the
machine (README). An ``HTTP_PROXY`` in the environment (common on corporate machines) must
not change that: httpx would send the request, key and all, unencrypted to the proxy (which
would then reach its own loopback, not ours). Loopback is never proxied.

Two loopback servers play the proxy and Tater.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from tater_client import RetryPolicy, Tater

KEY = "tater_" + "3fd88c926edd3a6f66a925de7df4cfe4"


class _Recording(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        recording = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recording.seen.append((self.path, self.headers.get("X-API-Key")))
                body = json.dumps({"valid": True, "id": "key-1", "permissions": ["*"]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def servers() -> Iterator[tuple[_Recording, _Recording]]:
    proxy, tater = _Recording(), _Recording()
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (proxy, tater)]
    for thread in threads:
        thread.start()
    try:
        yield proxy, tater
    finally:
        for server in (proxy, tater):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_server_is_not_reached_through_the_environments_proxy(host, servers, monkeypatch):
    proxy, tater = servers
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    url = f"http://{host}:{tater.server_address[1]}"
    with Tater(KEY, base_url=url, retry=RetryPolicy.disabled()) as client:
        assert client.validate().valid
    assert proxy.seen == []
    assert [key for _, key in tater.seen] == [KEY]
