"""Forged X-Forwarded-For / X-Real-IP neither dodge a lockout nor frame another address."""

from __future__ import annotations

import pytest

VALIDATE = "/api/v1/auth/validate"
BAD_KEY = "tater_" + "1" * 32
ATTACKER = "198.51.100.7"
VICTIM = "203.0.113.5"
PROXY = "10.0.0.1"


def bad(api, **meta):
    return api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, **meta)


@pytest.fixture
def proxies(settings):
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 5

    def set_count(n):
        settings.TATER_TRUSTED_PROXY_COUNT = n

    return set_count


@pytest.mark.django_db
class TestNoTrustedProxy:
    """TATER_TRUSTED_PROXY_COUNT=0: the address is REMOTE_ADDR, forwarding headers are ignored."""

    @pytest.fixture(autouse=True)
    def _setup(self, proxies):
        proxies(0)

    def test_rotating_forged_headers_do_not_dodge_the_lockout(self, api, world, clock):
        statuses = [
            bad(
                api, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}", HTTP_X_REAL_IP=f"192.0.2.{i + 100}"
            ).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 4 + [429] * 2

    def test_forged_headers_cannot_frame_a_victim(self, api, world, clock):
        for _ in range(6):
            bad(api, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=VICTIM, HTTP_X_REAL_IP=VICTIM)
        assert bad(api, REMOTE_ADDR=VICTIM).status_code == 401
        assert bad(api, REMOTE_ADDR=ATTACKER).status_code == 429


@pytest.mark.django_db
class TestOneTrustedProxy:
    """One proxy: the client is the entry the proxy appended (rightmost); the rest is the client's."""

    @pytest.fixture(autouse=True)
    def _setup(self, proxies):
        proxies(1)

    def test_rotating_forged_prefix_does_not_dodge_the_lockout(self, api, world, clock):
        statuses = [
            bad(
                api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, {ATTACKER}", HTTP_X_REAL_IP=f"192.0.2.{i}"
            ).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 4 + [429] * 2

    def test_forged_prefix_cannot_frame_a_victim(self, api, world, clock):
        for _ in range(6):
            bad(api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{VICTIM}, {ATTACKER}", HTTP_X_REAL_IP=VICTIM)
        assert bad(api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=VICTIM).status_code == 401
        assert bad(api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429

    def test_the_proxy_itself_is_not_locked_out(self, api, world, clock):
        # Five clients behind the proxy fail once each: nobody (least of all the proxy) is locked.
        for i in range(5):
            assert bad(api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code == 401
        assert bad(api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.50").status_code == 401

    def test_locked_client_with_a_valid_key_still_passes(self, api, world, clock):
        for _ in range(6):
            bad(api, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"], REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
        assert r.status_code == 200
