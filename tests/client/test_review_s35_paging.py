"""Review s35: offset paging against a server (or a proxy dropping the query) that ignores
``offset``: ``keys.iter``/``scans.iter`` and ``tater keys list --all`` yielded the first page
again and again, as if it were the next ones, and never the rest: a wrong listing, silently.
A page that brings nothing new is an error, like the audit log's repeated cursor (README:
every page, lazily; ``INVALID_RESPONSE``).
"""

from __future__ import annotations

import httpx
import pytest
from tater_client import RetryPolicy, Tater, TaterError

KEY = "tater_" + "3fd88c926edd3a6f66a925de7df4cfe4"
BASE = "https://tater.example.com"


def _key(i: int) -> dict[str, object]:
    return {"id": f"key-{i}", "name": "k", "type": "standard", "prefix": "tater_3fd8", "status": "active"}


def _deaf(request: httpx.Request) -> httpx.Response:
    """The first page, whatever the offset."""
    if request.url.path.endswith("/scans/"):
        return httpx.Response(200, json={"scans": [{"id": "scan-0"}, {"id": "scan-1"}], "total": 5})
    return httpx.Response(200, json={"keys": [_key(0), _key(1)], "total": 5, "limit": 2, "offset": 0})


@pytest.mark.parametrize("listing", ["keys", "scans"])
def test_a_server_ignoring_offset_ends_the_iteration_with_an_error(listing):
    calls: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return _deaf(request)

    with Tater(KEY, base_url=BASE, transport=httpx.MockTransport(respond), retry=RetryPolicy.disabled()) as tater:
        with pytest.raises(TaterError) as caught:
            list(getattr(tater, listing).iter(page_size=2))
    assert caught.value.code == "INVALID_RESPONSE"
    assert len(calls) == 2


def test_a_key_seen_again_on_the_next_page_is_fine():
    """A page repeating one key already seen is no reason to stop. (Review s44: iter pages
    by ``starting_after``, so Tater never repeats one; a server might.)"""
    pages = {"": [0, 1], "key-1": [1, 2], "key-2": [3, 4]}

    def respond(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after", "")
        return httpx.Response(200, json={"keys": [_key(i) for i in pages[after]], "total": 6})

    with Tater(KEY, base_url=BASE, transport=httpx.MockTransport(respond), retry=RetryPolicy.disabled()) as tater:
        assert [key.id for key in tater.keys.iter(page_size=2)] == [
            "key-0",
            "key-1",
            "key-1",
            "key-2",
            "key-3",
            "key-4",
        ]
