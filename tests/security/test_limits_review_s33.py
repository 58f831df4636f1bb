"""Found by an attacker review of rate limits, lockout and client addresses (SPEC §6, §12),
expectations from the SPEC:

- behind trusted proxies, every client whose forwarded entry held no address (Squid's
  ``unknown``, a client-side proxy's ``unknown`` on a path that skipped a trusted hop) was
  counted as ``0.0.0.0``: one bucket for all of them, whichever proxy forwarded them, so
  one guesser locked out every such client everywhere. §6 locks out "one client address":
  such a client is counted with the others that the nearest trusted hop forwarded (the
  address a trusted party did see), while allowlists and ``/metrics`` still refuse it;
- an identity-provider outage (its discovery document or JWKS unreachable) counted every
  honest IdP-token request as a failed authentication of its address: an outage locked out
  the tenant's users (and everyone sharing their address). §6 counts "bad keys, bad
  passwords, bad OTP codes": the caller's own bad credentials, not the server's trouble;
- the sign-in rate limits (``TATER_AUTH_FORM_RATE``) counted IPv6 clients per address while
  the lockout counts them per /64: a client rotating through its /64 was admitted
  without limit.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from tests.factories import make_key
from tests.surfaces.test_idp_tokens import Provider, acme, call, idp  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"
BAD_KEY = "tater_" + "1" * 32
LB = "10.0.0.1"


def bad_key(api: Any, **meta: Any) -> int:
    return api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, **meta).status_code


# --- 1. An entry holding no address --------------------------------------------------------


@pytest.mark.parametrize("entry", ["unknown", "garbage", "unix:"])
def test_unknown_clients_of_one_proxy_do_not_lock_out_those_of_another(api: Any, settings: Any, entry: str) -> None:
    """Two trusted proxies that cannot tell their clients' addresses: a guesser behind one
    locks out (at most) the clients of that proxy, not those of the other."""
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 3
    statuses = [bad_key(api, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=entry) for _ in range(4)]
    assert statuses == [401, 401, 429, 429]
    assert bad_key(api, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=entry) == 401


def test_unknown_entry_is_counted_as_the_nearest_trusted_hop(api: Any, settings: Any) -> None:
    """Two trusted hops (CDN, then load balancer); a request that reached the balancer from
    a client-side proxy writing ``unknown`` is counted as that proxy (the address the balancer
    saw), not with every other ``unknown`` on the internet."""
    settings.TATER_TRUSTED_PROXY_COUNT = 2
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 3
    squid_a, squid_b = "198.51.100.20", "198.51.100.30"
    assert [bad_key(api, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=f"unknown, {squid_a}") for _ in range(3)] == [
        401,
        401,
        429,
    ]
    assert bad_key(api, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=f"unknown, {squid_b}") == 401
    # Nor is the guesser out of its lock by writing another unparseable value or none at all.
    assert bad_key(api, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=f"nobody, {squid_a}") == 429


def test_unknown_clients_are_not_counted_with_the_proxy_itself(api: Any, settings: Any) -> None:
    """The proxy's own requests (or those it can identify) are another bucket than its
    unidentified clients: a guesser among those does not lock out the identified ones."""
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 3
    for _ in range(3):
        bad_key(api, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR="unknown")
    assert bad_key(api, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=LB) == 401
    assert bad_key(api, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR="203.0.113.50") == 401


def test_unknown_client_still_passes_no_allowlist_of_the_hop(api: Any, world: dict[str, Any], settings: Any) -> None:
    """Counting is per hop; trust is not: the hop's address admits nobody it forwarded blind."""
    settings.TATER_TRUSTED_PROXY_COUNT = 2
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=["198.51.100.0/24"])
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR="unknown, 198.51.100.20")
    assert r.status_code == 403 and r.json()["error"] == "IP_NOT_ALLOWED", r.content
    r = Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="unknown, 127.0.0.1")
    assert r.status_code == 404


def test_unknown_clients_password_guesses_are_counted_per_hop(settings: Any) -> None:
    """The sign-in API: the same per-hop count and lock (check_account reads the request's)."""
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 3
    statuses = []
    for i in range(4):
        r = Client(REMOTE_ADDR="10.0.0.1").post(
            "/api/v1/auth/login",
            {"email": f"nobody{i}@example.test", "password": "wrong"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR="unknown",
        )
        statuses.append(r.status_code)
    assert statuses == [401, 401, 429, 429]
    r = Client(REMOTE_ADDR="10.0.0.2").post(
        "/api/v1/auth/login",
        {"email": "someone@example.test", "password": "wrong"},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="unknown",
    )
    assert r.status_code == 401, r.content


# --- 2. An identity-provider outage is not the caller's failure ---------------------------


def test_idp_outage_does_not_lock_out_its_users(idp: Provider, acme: dict[str, Any], api: Any) -> None:  # noqa: F811
    honest = idp.sign(idp.claims_for("00u-jane"))
    idp.server.shutdown()
    idp.server.server_close()
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
        statuses = [call(honest).status_code for _ in range(5)]
        assert 429 not in statuses, statuses
        # Nothing was counted: the address's first two bad keys are refused as such, unlocked.
        assert [bad_key(api) for _ in range(2)] == [401, 401]


def test_bad_tokens_are_still_counted_while_the_idp_answers(idp: Provider, acme: dict[str, Any]) -> None:  # noqa: F811
    """Control: a token the IdP's published keys refute is the caller's own bad credential."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = idp.sign(idp.claims_for("00u-jane"), key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
        assert [call(forged).status_code for _ in range(3)] == [401, 401, 429]


# --- 3. Address-keyed sign-in limits count an IPv6 client per /64 --------------------------


@override_settings(TATER_AUTH_FORM_RATE="3/h")  # an hour: five posts never straddle a fixed window on a slow machine
def test_sign_in_rate_limit_is_not_dodged_by_rotating_through_a_64() -> None:
    statuses = [
        Client(REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}")
        .post(
            "/api/v1/auth/login",
            {"email": f"nobody{i}@example.test", "password": "wrong"},
            content_type="application/json",
        )
        .status_code
        for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


# --- Held: every channel counts into one address's lock (guards) ---------------------------


def _guesses(client: Client) -> list[Any]:
    """One failed credential through each door: key headers, Bearer on the seed paths, the
    sign-in API, its TigerTrust alias and Taffy's credential exchange."""
    bad = "tater_" + "3" * 32
    wrong = {"email": "nobody@example.test", "password": "wrong"}
    return [
        lambda: client.get(VALIDATE, HTTP_X_API_KEY=bad),
        lambda: client.get(VALIDATE, HTTP_X_AGENT_API_KEY=bad.upper()),
        lambda: client.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"bEaReR {bad}"),
        lambda: client.get("/v1/workspaces", HTTP_AUTHORIZATION=f"Bearer {bad}"),
        lambda: client.post("/api/auth/login", wrong, content_type="application/json"),
        lambda: client.post(
            "/auth/token", {"username": "x@example.test", "password": "y"}, content_type="application/json"
        ),
    ]


def test_every_door_counts_into_one_lock_and_every_door_then_refuses(settings: Any) -> None:
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 6
    client = Client(REMOTE_ADDR="198.51.100.77")
    first = [door().status_code for door in _guesses(client)]
    assert first == [401, 401, 401, 401, 401, 429], first
    for door in _guesses(client):
        r = door()
        assert r.status_code == 429 and int(r["Retry-After"]) > 0, (r.status_code, r.content[:200])
        # The refusal says when to come back, and nothing about the credential tried.
        assert b"nobody" not in r.content and b"3333" not in r.content
