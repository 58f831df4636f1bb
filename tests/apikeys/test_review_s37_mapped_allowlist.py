"""Found by an attacker review of key restrictions (2026-12-06), expectations from SPEC §2
("optional IP allowlist (CIDRs)") and §2a ("a smaller or new IP allowlist" narrows):

an allowlist entry written as an IPv4-mapped IPv6 address (``::ffff:203.0.113.9``: how a
dual-stack server, one listening on ``[::]``, reports an IPv4 client, so how the key's
``last_used_ip`` and ``recent_ips`` show it) was accepted and stored as an IPv6 network,
which the key check never matches (it reads a mapped client as its IPv4 address): the key
refused every call with ``IP_NOT_ALLOWED``, from the very address its owner allowed. And
narrowing ``10.0.0.0/8`` to that one address through an API key was refused as a widening.
A mapped entry is now stored as the IPv4 network it stands for.
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


def test_an_allowlist_written_as_a_mapped_address_admits_that_client(api, world):
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=["::ffff:203.0.113.9"]
    )
    for remote in ("203.0.113.9", "::ffff:203.0.113.9"):
        r = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw, REMOTE_ADDR=remote)
        assert r.status_code == 200, (remote, r.content)
    refused = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw, REMOTE_ADDR="203.0.113.10")
    assert refused.status_code == 403 and refused.json()["error"] == "IP_NOT_ALLOWED"
    key.refresh_from_db()
    assert key.allowed_ips == ["203.0.113.9/32"]


def office_key(world):
    """A key with keys:write that works from 10.0.0.0/8 only."""
    return make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        scopes=["keys:write"],
        allowed_ips=["10.0.0.0/8"],
    )


def test_narrowing_to_the_mapped_spelling_of_an_address_inside_is_a_narrowing(api, world):
    key, raw = office_key(world)
    r = api.patch(
        f"{KEYS}{key.public_id}/",
        {"allowed_ips": ["::ffff:10.1.2.3", "::ffff:10.9.0.0/112"]},
        format="json",
        HTTP_X_API_KEY=raw,
        REMOTE_ADDR="10.1.2.3",
    )
    assert r.status_code == 200, r.content
    assert r.json()["allowed_ips"] == ["10.1.2.3/32", "10.9.0.0/16"]


@pytest.mark.parametrize(
    "wider", [["::ffff:0:0/96"], ["::ffff:0.0.0.0/97"], ["::ffff:10.1.2.3", "::ffff:11.0.0.0/104"]]
)
def test_a_mapped_spelling_of_a_wider_network_is_still_a_widening(api, world, wider: Any):
    key, raw = office_key(world)
    r = api.patch(
        f"{KEYS}{key.public_id}/", {"allowed_ips": wider}, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR="10.1.2.3"
    )
    assert r.status_code == 403, r.content
    assert ApiKey.objects.get(pk=key.pk).allowed_ips == ["10.0.0.0/8"]


def test_an_ipv6_network_beyond_the_mapped_range_is_kept_as_written(world):
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=["::/0", "2001:db8::/32"]
    )
    assert key.allowed_ips == ["2001:db8::/32", "::/0"]
