"""Behind TATER_TRUSTED_PROXY_COUNT=2 (a CDN, then nginx beside the app), a client that
reaches nginx directly arrives with one X-Forwarded-For entry: the address nginx saw, which
nginx appended (so it is no forgery). Such requests were all counted under REMOTE_ADDR,
nginx's own loopback address: one guesser locked out every client arriving that way (and
their failures were logged as loopback's). The leftmost entry of a chain shorter than the
trusted proxies was written by a trusted proxy: it is the client."""

from __future__ import annotations

import pytest

VALIDATE = "/api/v1/auth/validate"
BAD_KEY = "tater_" + "2" * 32
NGINX = "127.0.0.1"


def bad(api, forwarded: str):
    return api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.django_db
def test_one_guesser_past_the_cdn_does_not_lock_out_the_others(api, world, clock, settings) -> None:
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 5
    settings.TATER_TRUSTED_PROXY_COUNT = 2
    statuses = [bad(api, "198.51.100.7").status_code for _ in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    assert bad(api, "203.0.113.5").status_code == 401  # another client that reached nginx directly
    assert bad(api, "203.0.113.5, 192.0.2.10").status_code == 401  # one through the CDN


@pytest.mark.django_db
def test_a_direct_connection_is_still_its_own_address(api, world, clock, settings) -> None:
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 5
    settings.TATER_TRUSTED_PROXY_COUNT = 2
    for _ in range(6):
        api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR="198.51.100.9")
    assert api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR="198.51.100.9").status_code == 429
    assert bad(api, "198.51.100.10").status_code == 401
