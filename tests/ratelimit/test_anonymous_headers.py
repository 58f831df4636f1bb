"""SPEC §6: "Every API response carries X-RateLimit-Limit, -Remaining, -Reset".

A response to a caller with no valid credential (a 401, a lockout's 429) has no key or user
quota to report: it reports the client address's failed-authentication budget, as GitHub
reports its per-address budget to unauthenticated callers. ``Limit`` is how many failed
attempts an address may make in the window and still be answered; ``Remaining`` 0 means
the next failed attempt is refused with ``LOCKED_OUT``; during a lockout ``Reset`` is its end.
"""

from __future__ import annotations

import pytest

from tests.ratelimit.conftest import T0

VALIDATE = "/api/v1/auth/validate"
BAD_KEY = "tater_" + "0" * 32
ATTACKER = "198.51.100.7"
H = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def bad(api, ip=ATTACKER):
    return api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR=ip)


def rl(r):
    return tuple(int(r[h]) for h in H)


@pytest.fixture(autouse=True)
def _four_failures_lock(settings):
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 4
    settings.TATER_LOCKOUT_CLIENT_WINDOW = 600
    settings.TATER_LOCKOUT_CLIENT_DURATION = 900


@pytest.mark.django_db
class TestAnonymousAnswersReportTheAddressBudget:
    def test_each_failed_key_spends_one(self, api, clock):
        first = bad(api)
        assert first.status_code == 401
        assert rl(first) == (3, 2, int(T0) + 600)
        clock.advance(10)
        second = bad(api)
        assert rl(second) == (3, 1, int(T0) + 10 + 600)
        third = bad(api)
        assert (third.status_code, rl(third)[1]) == (401, 0)  # the next failure locks
        locked = bad(api)
        assert (locked.status_code, locked.json()["error"]) == (429, "LOCKED_OUT")
        assert rl(locked) == (3, 0, int(T0) + 10 + 900)
        assert locked["Retry-After"] == "900"

    def test_no_credential_spends_nothing(self, api, clock):
        bad(api)
        for _ in range(3):
            r = api.get(VALIDATE, REMOTE_ADDR=ATTACKER)
            assert r.status_code == 401 and r.json()["error"] == "UNAUTHORIZED"
            assert rl(r)[:2] == (3, 2)

    def test_another_address_has_its_own_budget(self, api, clock):
        for _ in range(4):
            bad(api)
        r = bad(api, ip="203.0.113.5")
        assert (r.status_code, rl(r)[:2]) == (401, (3, 2))

    def test_an_identified_caller_still_sees_its_own_quota(self, api, world, clock):
        for _ in range(2):
            bad(api)
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"], REMOTE_ADDR=ATTACKER)
        assert r.status_code == 200
        limit, remaining, _ = rl(r)
        assert limit > 3 and remaining == limit - 1
