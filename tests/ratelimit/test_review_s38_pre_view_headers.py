"""Review s38 (D): SPEC §6 "Every API response carries X-RateLimit-Limit,
X-RateLimit-Remaining, X-RateLimit-Reset", also those answered before any view reads a
credential: a path that matches no route (404, under /api/ and the seed systems' /v1/), a
body over the size limit (413, in the path's own envelope), a TigerTrust Google path with
no Google application (404). They have no caller to report, so they report the client
address's failed-authentication budget, as every other answer with no caller does
(tests/ratelimit/test_anonymous_headers.py). Before, they carried none."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ratelimit.conftest import T0

H = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
BAD_KEY = "tater_" + "0" * 32
ATTACKER = "198.51.100.7"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _four_failures_lock(settings: Any) -> None:
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 4
    settings.TATER_LOCKOUT_CLIENT_WINDOW = 600
    settings.TATER_MAX_UPLOAD_BYTES = 1000


def rl(r: Any) -> tuple[int, ...]:
    missing = [h for h in H if h not in r]
    assert not missing, (r.status_code, missing, r.content[:120])
    return tuple(int(r[h]) for h in H)


def one_failure(api: Any) -> None:
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR=ATTACKER).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/nothing/here/", "/v1/no-such-thing", "/auth/nope"])
def test_a_path_matching_no_route(api: Any, clock: Any, path: str) -> None:
    one_failure(api)
    r = api.get(path, REMOTE_ADDR=ATTACKER)
    assert r.status_code == 404
    assert rl(r) == (3, 2, int(T0) + 600)
    # A key beside it is not read on such a path: the address's budget all the same.
    assert rl(api.get(path, HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR=ATTACKER))[:2] == (3, 2)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/scans/upload", {"HTTP_X_API_KEY": BAD_KEY}),
        ("/api/scans/upload", {"HTTP_X_API_KEY": BAD_KEY}),
        ("/v1/auth/validate", {"HTTP_AUTHORIZATION": f"Bearer {BAD_KEY}"}),
        ("/auth/token", {}),
        ("/api/auth/login", {}),
    ],
)
def test_a_body_over_the_size_limit(api: Any, clock: Any, path: str, headers: dict[str, str]) -> None:
    one_failure(api)
    r = api.generic("POST", path, "x" * 2000, content_type="application/json", REMOTE_ADDR=ATTACKER, **headers)
    assert r.status_code == 413
    assert rl(r)[:2] == (3, 2)


def test_tigertrusts_google_paths_without_google(api: Any, clock: Any) -> None:
    for path in ("/api/auth/google", "/api/auth/google/callback"):
        r = api.get(path, REMOTE_ADDR=ATTACKER)
        assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"
        assert rl(r)[:2] == (3, 3)


def test_a_locked_address_reads_its_lock_on_them(api: Any, clock: Any) -> None:
    for _ in range(4):
        api.get("/api/v1/auth/validate", HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR=ATTACKER)
    r = api.get("/api/v1/no-such-thing", REMOTE_ADDR=ATTACKER)
    assert r.status_code == 404 and rl(r)[1:] == (0, int(T0) + 900)
