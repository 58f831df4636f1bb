"""Review s35: a successful answer is read up to a bound. A hostile or broken server (or a
proxy) answering 200 with a body of gigabytes must not exhaust the caller's memory; the
streamed CSV export and paged listings still read everything.

The server is played by an ``httpx.MockTransport``; expectations come from the README
(``max_response_bytes``, 32 MiB by default), not from the client's code.
"""

from __future__ import annotations

import httpx
import pytest
from tater_client import TaterError

from tests.client.servers import MIB, Endless, offline_client


def test_a_huge_successful_body_is_not_read_into_memory():
    stream = Endless(b'{"id": "key-1", "name": "', 2048 * MIB)
    with (
        offline_client(lambda request: httpx.Response(200, stream=stream)) as tater,
        pytest.raises(TaterError) as caught,
    ):
        tater.keys.get("key-1")
    assert caught.value.code == "RESPONSE_TOO_LARGE"
    assert "max_response_bytes" in caught.value.message and str(32 * MIB) in caught.value.message
    assert stream.pulled <= 34 * MIB, stream.pulled


def test_the_bound_is_settable_and_a_body_within_it_is_read():
    body = b'{"id": "key-1", "name": "k", "type": "standard", "prefix": "tater_3fd8", "status": "active"}'
    with offline_client(lambda request: httpx.Response(200, content=body), max_response_bytes=len(body)) as tater:
        assert tater.keys.get("key-1").id == "key-1"
    with offline_client(lambda request: httpx.Response(200, content=body), max_response_bytes=len(body) - 1) as tater:
        with pytest.raises(TaterError) as caught:
            tater.keys.get("key-1")
    assert caught.value.code == "RESPONSE_TOO_LARGE" and str(len(body) - 1) in caught.value.message


def test_a_declared_length_over_the_bound_is_refused_before_reading():
    stream = Endless(b"{", 64 * MIB)
    headers = {"Content-Length": str(64 * MIB + 1)}
    with offline_client(
        lambda request: httpx.Response(200, stream=stream, headers=headers), max_response_bytes=MIB
    ) as tater:
        with pytest.raises(TaterError) as caught:
            tater.request("GET", "/organizations/")
    assert caught.value.code == "RESPONSE_TOO_LARGE"
    assert stream.pulled <= MIB + 64, stream.pulled


def test_paged_listings_read_every_page_under_a_small_bound():
    def respond(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")  # the last key id of the page before
        start = int(after.removeprefix("key-")) + 1 if after else 0
        keys = [
            {"id": f"key-{i}", "name": "k", "type": "standard", "prefix": "tater_3fd8", "status": "active"}
            for i in range(start, min(start + 2, 5))
        ]
        return httpx.Response(200, json={"keys": keys, "total": 5, "limit": 2, "offset": 0, "has_more": start + 2 < 5})

    with offline_client(respond, max_response_bytes=4096) as tater:
        assert [key.id for key in tater.keys.iter(page_size=2)] == [f"key-{i}" for i in range(5)]


def test_the_streamed_export_is_not_cut_at_the_bound(tmp_path):
    csv = b"id,action\n" + b"evt-1,api_key.created\n" * 10_000
    headers = {"Content-Type": "text/csv"}
    with offline_client(
        lambda request: httpx.Response(200, content=csv, headers=headers), max_response_bytes=1024
    ) as tater:
        assert b"".join(tater.audit.export(since="2026-01-01")) == csv
        assert tater.audit.export_to(tmp_path / "audit.csv", since="2026-01-01") == len(csv)
    assert (tmp_path / "audit.csv").read_bytes() == csv
