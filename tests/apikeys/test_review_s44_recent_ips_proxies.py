"""Review s44 (SPEC §14 "last 5 client IPs", §2a), as an attacker behind a load balancer: a
key's recent addresses are the clients the trusted proxies saw, never what the caller wrote
into ``X-Forwarded-For`` itself, and only those who may see the key see them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"

pytestmark = pytest.mark.django_db

LOAD_BALANCER = "10.0.0.1"


def _recent(api: Any, world: dict[str, Any], **client: str) -> tuple[list[str], str | None]:
    """The key's addresses, as the key itself reads them (from ``client``, the last client)."""
    detail = api.get(f"{KEYS}{world['member_key'].public_id}/", HTTP_X_API_KEY=world["member_raw"], **client).json()
    return [entry["ip"] for entry in detail["recent_ips"]], detail["last_used_ip"]


@override_settings(TATER_TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_address_it_saw_is_kept(api: Any, world: dict[str, Any]) -> None:
    forged = "6.6.6.6, 203.0.113.5"  # the client wrote 6.6.6.6; the proxy appended what it saw
    r = api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"], REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=forged)
    assert r.status_code == 200
    r = api.get(
        VALIDATE,
        HTTP_X_API_KEY=world["member_raw"],
        REMOTE_ADDR=LOAD_BALANCER,
        HTTP_X_FORWARDED_FOR="::ffff:198.51.100.9",
    )
    assert r.status_code == 200
    ips, last = _recent(api, world, REMOTE_ADDR=LOAD_BALANCER, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert ips == ["198.51.100.9", "203.0.113.5"] and last == "198.51.100.9"


@override_settings(TATER_TRUSTED_PROXY_COUNT=0)
def test_without_trusted_proxies_a_forwarded_header_is_ignored(api: Any, world: dict[str, Any]) -> None:
    for spoof in ("6.6.6.6", "7.7.7.7", "8.8.8.8", "9.9.9.9", "1.1.1.1", "2.2.2.2"):
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"], REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR=spoof)
        assert r.status_code == 200
    assert _recent(api, world, REMOTE_ADDR="192.0.2.44") == (["192.0.2.44"], "192.0.2.44")


def test_only_those_who_may_see_the_key_see_its_addresses(api: Any, world: dict[str, Any]) -> None:
    assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"], REMOTE_ADDR="192.0.2.80").status_code == 200
    url = f"{KEYS}{world['owner_key'].public_id}/"
    # Another member's key, a viewer's session, a key of another tenant: the key is a 404.
    assert api.get(url, HTTP_X_API_KEY=world["member_raw"]).status_code == 404
    assert api.get(url, HTTP_X_API_KEY=world["other_raw"]).status_code == 404
    listed = api.get(KEYS, HTTP_X_API_KEY=world["member_raw"]).json()
    assert "192.0.2.80" not in str(listed)
    api.force_login(world["viewer"])
    assert api.get(f"{url}?organizationId={world['org1'].public_id}").status_code == 404
    assert "192.0.2.80" not in str(api.get(f"{KEYS}?organizationId={world['org1'].public_id}").json())
    api.logout()
    # The org's admin may view the key (SPEC §2a), its addresses included.
    api.force_login(world["admin"])
    detail = api.get(f"{url}?organizationId={world['org1'].public_id}").json()
    assert [entry["ip"] for entry in detail["recent_ips"]] == ["192.0.2.80"]
