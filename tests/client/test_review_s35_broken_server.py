"""Review s35: a slow, dropping or broken server. Whatever it does, a call ends, within its
timeout, as a ``TaterError`` (the CLI: exit 1 with the error on stderr, never a traceback):
a body that stops or trickles, nesting that no JSON parser can follow, an export whose
output cannot be written (exit 2, a usage error).

Loopback servers (127.0.0.1) and ``httpx.MockTransport`` play the server; expectations come
from the README (timeouts, exit codes, the error table).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tater_client import RetryPolicy, Tater, TaterError, TransportError
from tater_client.cli import main

from tests.client.servers import KEY, offline_client, serving


class _Stops(httpx.SyncByteStream):
    """Part of a body, then the connection times out (or drops)."""

    def __init__(self, error: type[httpx.TransportError]) -> None:
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"id": "key-1", "na'
        raise self.error("the server went quiet")


@pytest.mark.parametrize(("error", "code"), [(httpx.ReadTimeout, "TIMEOUT"), (httpx.ReadError, "CONNECTION_ERROR")])
def test_a_body_that_stops_is_a_transport_error(error, code):
    with offline_client(lambda request: httpx.Response(200, stream=_Stops(error))) as tater:
        with pytest.raises(TransportError) as caught:
            tater.keys.get("key-1")
    assert caught.value.code == code


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ReadError])
def test_an_error_whose_body_stops_is_still_the_status_error(error):
    with offline_client(lambda request: httpx.Response(403, stream=_Stops(error))) as tater:
        with pytest.raises(TaterError) as caught:
            tater.keys.get("key-1")
    assert caught.value.status == 403 and caught.value.code == "HTTP_403"


def test_an_export_that_stops_midway_is_a_transport_error():
    class _Csv(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"id,action\r\nevt-1,api_key.created\r\n"
            raise httpx.ReadTimeout("the server went quiet")

    with offline_client(lambda request: httpx.Response(200, stream=_Csv())) as tater:
        with pytest.raises(TransportError) as caught:
            list(tater.audit.export(since="2026-01-01"))
    assert caught.value.code == "TIMEOUT"


@pytest.fixture
def trickle() -> Iterator[str]:
    """A loopback server that sends its headers, then one body byte every 0.2 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                )
                while not stop.wait(0.2):
                    try:
                        connection.sendall(b" ")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def test_a_trickling_answer_times_out_within_the_timeout(trickle):
    """httpx's read timeout is per read: a byte every 0.2 s never trips a 1 s timeout. The
    README's "30 s per request" must bound the whole answer, or a hostile server holds the
    caller (and the CLI) forever."""
    started = time.monotonic()
    with Tater(KEY, base_url=trickle, timeout=1, retry=RetryPolicy.disabled()) as tater:
        with pytest.raises(TransportError) as caught:
            tater.keys.get("key-1")
    assert caught.value.code == "TIMEOUT"
    assert time.monotonic() - started < 4


def test_the_cli_against_a_trickling_server_exits_1(trickle, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", trickle, "--timeout", "1", "keys", "get", "key-1"]) == 1
    err = capsys.readouterr().err
    assert "TIMEOUT" in err and "Traceback" not in err


DEEP = b"[" * 200_000 + b"]" * 200_000


def test_nesting_no_parser_follows_is_an_invalid_response():
    with offline_client(lambda request: httpx.Response(200, content=DEEP)) as tater:
        with pytest.raises(TaterError) as caught:
            tater.request("GET", "/organizations/")
    assert caught.value.code == "INVALID_RESPONSE"


def test_a_deeply_nested_error_body_is_still_the_status_error():
    with offline_client(lambda request: httpx.Response(400, content=DEEP)) as tater:
        with pytest.raises(TaterError) as caught:
            tater.keys.get("key-1")
    assert caught.value.status == 400


def test_an_export_to_an_unwritable_place_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    with serving(lambda path: (200, b"id,action\r\n", {"Content-Type": "text/csv"})) as url:
        target = tmp_path / "missing" / "audit.csv"
        status = main(["--url", url, "audit", "export", "--since", "2026-01-01", "--output", str(target)])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err and "audit.csv" in err


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (lambda tater: tater.keys.list(), b'{"keys": [], "total": Infinity, "limit": 50, "offset": 0}'),
        (lambda tater: tater.keys.list(), b'{"keys": [], "total": 1e999, "limit": 50, "offset": 0}'),
        (lambda tater: tater.scans.get("scan-1"), b'{"id": "scan-1", "finding_count": 1e999}'),
        (lambda tater: tater.scans.get("scan-1"), b'{"id": "scan-1", "severity_counts": {"high": -Infinity}}'),
    ],
)
def test_numbers_no_integer_holds_are_an_invalid_response(call, body):
    """Not JSON Tater sends (RFC 8259 has no Infinity; 1e999 is no count): an
    ``INVALID_RESPONSE`` like any answer that is not Tater's JSON, never an OverflowError."""
    with offline_client(lambda request: httpx.Response(200, content=body)) as tater:
        with pytest.raises(TaterError) as caught:
            call(tater)
    assert caught.value.code == "INVALID_RESPONSE"


class _Raw(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"not compressed at all"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_does_not_decode_as_its_content_encoding_is_an_invalid_response(encoding):
    headers = {"Content-Encoding": encoding, "Content-Type": "application/json"}
    with offline_client(lambda request: httpx.Response(200, stream=_Raw(), headers=headers)) as tater:
        with pytest.raises(TaterError) as caught:
            tater.keys.get("key-1")
        assert caught.value.code == "INVALID_RESPONSE"
        with pytest.raises(TaterError) as caught:
            list(tater.audit.export(since="2026-01-01"))
        assert caught.value.code == "INVALID_RESPONSE"
    with offline_client(lambda request: httpx.Response(403, stream=_Raw(), headers=headers)) as tater:
        with pytest.raises(TaterError) as caught:
            tater.keys.get("key-1")
    assert caught.value.status == 403


@pytest.mark.parametrize(
    "csv", [b"id,action\r\nevt-1,\xff\xfe\r\n", b"id,action\r\nevt-1," + b"x" * (1 << 20) + b"\r\n"]
)
def test_an_export_that_is_not_tater_csv_is_an_invalid_response(csv):
    """Tater's export is UTF-8 CSV of short fields: bytes that do not decode, or a field of a
    megabyte, are a ``TaterError`` from ``export_rows``, not a UnicodeDecodeError/csv.Error."""
    with offline_client(
        lambda request: httpx.Response(200, content=csv, headers={"Content-Type": "text/csv"})
    ) as tater:
        with pytest.raises(TaterError) as caught:
            list(tater.audit.export_rows(since="2026-01-01"))
    assert caught.value.code == "INVALID_RESPONSE"
