"""Review s45: ``tater.scans.iter()`` pages scans by ``offset`` (the only paging ``GET scans/``
offers: README "Decisions on lists"; no cursor, no ``starting_after``), newest ``started_at``
first. A scan uploaded while a script walked the list (an agent keeps uploading) shifted the
later pages by one: the iteration yielded a scan twice, and with small pages a page of scans
all seen already ended it with ``INVALID_RESPONSE`` ("the server ignores the paging"), though
the server paged correctly. Each scan is yielded once, the deaf server is still caught.
"""

from __future__ import annotations

import httpx
import pytest
from tater_client import RetryPolicy, Tater, TaterError


def _scan(started: str) -> dict:
    return {"scanner": "nmap", "target": "10.0.0.0/24", "started_at": started, "findings": []}


@pytest.fixture
def three(tater):
    return [tater.scans.upload(_scan(f"2026-01-1{i}T00:00:00Z")).id for i in range(3)]


@pytest.mark.parametrize("page_size", [1, 2])
def test_a_scan_uploaded_meanwhile_is_no_duplicate_and_no_error(tater, three, page_size):
    seen: list[str] = []
    for scan in tater.scans.iter(page_size=page_size):
        if not seen:
            # The newest scan: every later page moves one place down.
            tater.scans.upload(_scan("2026-06-01T00:00:00Z"))
        seen.append(scan.id)
    assert len(seen) == len(set(seen))
    assert set(three) <= set(seen)


def test_a_server_ignoring_offset_is_still_an_error():
    """Tater echoes the ``offset`` it applied: an answer for another offset is no next page."""
    raw = "tater_" + "ab" * 16

    def respond(request: httpx.Request) -> httpx.Response:
        scans = [{"id": "scan-0"}, {"id": "scan-1"}]
        return httpx.Response(200, json={"scans": scans, "total": 5, "limit": 2, "offset": 0})

    transport = httpx.MockTransport(respond)
    with Tater(raw, base_url="https://tater.example.com", transport=transport, retry=RetryPolicy.disabled()) as tater:
        with pytest.raises(TaterError) as caught:
            list(tater.scans.iter(page_size=2))
    assert caught.value.code == "INVALID_RESPONSE"
