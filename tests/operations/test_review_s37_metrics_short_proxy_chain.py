"""``/metrics`` behind trusted proxies (SPEC §12: restricted by ``TATER_METRICS_ALLOWED_IPS``).

With ``TATER_TRUSTED_PROXY_COUNT=2`` (a CDN, then nginx on the same host) a forwarded
request whose ``X-Forwarded-For`` holds fewer entries than that came around the outer
proxy: someone reached nginx directly (an exposed origin), and nginx wrote the one entry.
The address left to judge is the nearest proxy's own (loopback), not the client's: such a
request must not be admitted by address, as with no trusted proxy configured. A scraper
that connects straight to the app (no forwarding header at all) still is."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.operations.test_metrics import assert_hidden, scrape


@override_settings(TATER_TRUSTED_PROXY_COUNT=2)
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # nginx's entry only: the CDN was bypassed
        {"HTTP_X_REAL_IP": "203.0.113.9"},  # a proxy that writes no X-Forwarded-For
        {"HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_short_forwarding_chain_is_not_admitted_by_the_proxys_address(headers: dict[str, str]) -> None:
    assert_hidden(Client(REMOTE_ADDR="127.0.0.1").get("/metrics", **headers))


@override_settings(TATER_TRUSTED_PROXY_COUNT=2)
def test_full_chain_and_direct_scrapes_still_decide_by_address() -> None:
    scrape(Client(REMOTE_ADDR="127.0.0.1"))  # a local scraper, straight to the app
    scrape(Client(REMOTE_ADDR="127.0.0.1"), HTTP_X_FORWARDED_FOR="127.0.0.1, 198.51.100.7")
    assert_hidden(Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"))
