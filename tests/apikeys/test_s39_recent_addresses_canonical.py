"""SPEC §14: a key's last 5 client IPs. One client is one entry, however its address was
written on the way: a dual-stack server (listening on ``[::]``) reports an IPv4 client as
``::ffff:198.51.100.7``, and an IPv6 address may arrive with leading zeros
(``2001:0db8::1``). Both spellings of one address took two of the five places (pushing out
a real second client), and the key page showed an IPv4 client in IPv6 form, unlike the
allowlist, which reads such an address as its IPv4 one (test_review_s37_mapped_allowlist).
"""

from __future__ import annotations

import pytest

from apikeys import usage
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
VALIDATE = "/api/v1/auth/validate"


def _recent(api, world):
    key = world["owner_key"]
    detail = api.get(f"/api/v1/keys/{key.public_id}/", HTTP_X_API_KEY=world["owner_raw"], REMOTE_ADDR="192.0.2.200")
    return [entry["ip"] for entry in detail.json()["recent_ips"]], detail.json()["last_used_ip"]


@pytest.mark.parametrize(
    ("first", "second", "shown"),
    [
        ("198.51.100.7", "::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8::1", "2001:0db8:0000::0001", "2001:db8::1"),
        ("::FFFF:198.51.100.7", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_one_client_takes_one_place_whatever_its_spelling(api, world, first, second, shown):
    raw = world["owner_raw"]
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=first).status_code == 200
    usage.reset_local_memo()  # the next minute, as far as the process memo goes
    from django.core.cache import cache

    cache.clear()  # and the shared marks
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=second).status_code == 200
    addresses, _ = _recent(api, world)
    assert addresses.count(shown) == 1 and all(a == shown or a == "192.0.2.200" for a in addresses), addresses


def test_a_mapped_client_is_shown_and_audited_as_its_ipv4_address(api, world):
    raw, key = world["owner_raw"], world["owner_key"]
    r = api.post(f"/api/v1/keys/{key.public_id}/deactivate/", HTTP_X_API_KEY=raw, REMOTE_ADDR="::ffff:198.51.100.7")
    assert r.status_code == 200, r.content
    entry = AuditEvent.objects.filter(action="api_key.deactivated").latest("id")
    assert entry.ip == "198.51.100.7" and entry.changes is not None, (entry.ip, entry.pk)
