"""A stand-in for GitHub: a P-256 signing key made per test, and its public keys served by a
real HTTP server on 127.0.0.1, as GitHub serves them at /meta/public_keys/secret_scanning."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ENDPOINT = "/api/v1/secret-scanning/github/"


@dataclass
class SigningKey:
    private: ec.EllipticCurvePrivateKey
    identifier: str

    @classmethod
    def new(cls, curve: ec.EllipticCurve | None = None) -> SigningKey:
        private = ec.generate_private_key(curve or ec.SECP256R1())
        public_der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(private=private, identifier=hashlib.sha256(public_der).hexdigest())

    @property
    def pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.private.sign(body, ec.ECDSA(hashes.SHA256()))).decode()

    def headers(self, body: bytes, identifier: str | None = None) -> dict[str, str]:
        return {
            "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER": identifier or self.identifier,
            "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": self.sign(body),
        }


@dataclass
class GitHubKeysServer:
    """Serves ``{"public_keys": [...]}`` for the keys in ``published``; counts fetches."""

    published: list[SigningKey]
    url: str = ""
    fetches: int = 0
    delay: float = 0.0
    status: int = 200
    raw: bytes | None = None  # served instead of the document when set
    lock: threading.Lock = field(default_factory=threading.Lock)

    def document(self) -> bytes:
        if self.raw is not None:
            return self.raw
        keys = [
            {"key_identifier": k.identifier, "key": k.pem, "is_current": i == len(self.published) - 1}
            for i, k in enumerate(self.published)
        ]
        return json.dumps({"public_keys": keys}).encode()


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.new()


@pytest.fixture
def github(signing_key: SigningKey, settings: Any) -> Iterator[GitHubKeysServer]:
    state = GitHubKeysServer(published=[signing_key])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            with state.lock:
                state.fetches += 1
            if state.delay:
                time.sleep(state.delay)
            body = state.document()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/meta/public_keys/secret_scanning"
    settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL = state.url
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def alert(*matches: dict[str, str]) -> bytes:
    """An alert body as GitHub writes it (compact JSON)."""
    return json.dumps(list(matches), separators=(",", ":")).encode()


def match(
    token: str,
    *,
    url: str = "https://github.com/octo/app/blob/abc123/settings.py",
    source: str = "content",
    type: str = "tater_api_key",
) -> dict[str, str]:
    return {"token": token, "type": type, "url": url, "source": source}


@pytest.fixture
def report_leak(
    api: Any, github: GitHubKeysServer, signing_key: SigningKey, django_capture_on_commit_callbacks: Any
) -> Any:
    """Report ``token``, a live secret, found in public as GitHub does (a signed alert), the
    mail sent after commit; the 200 answer, labelled a true positive."""

    def report(token: str) -> Any:
        body = alert(match(token))
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(ENDPOINT, data=body, content_type="application/json", **signing_key.headers(body))
        assert response.status_code == 200, response.content
        assert response.json()[0]["label"] == "true_positive"
        return response

    return report
