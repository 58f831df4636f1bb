"""Found by an attacker review of credential edges (2026-12-04), expectations from SPEC §2,
§2a, §3, §6 and §12:

- an API key restricted by an IP allowlist, an expiry, a rate limit or a usage limit rotated
  a sibling key of its owner that has none of those and received that key's new secret: a
  key usable only from 10.0.0.0/8 (or only until tomorrow) became one usable from anywhere,
  forever. Creating such a key through an API key is refused ("no looser than that key");
  rotating a looser one handed out the same credential;
- behind a trusted proxy that writes the client address with its port (Azure Application
  Gateway: ``X-Forwarded-For: 203.0.113.9:51234``) or as ``unknown`` (Squid), the client was
  taken to be the proxy itself: an outsider passed a key allowlisted to the proxy's private
  network, read ``/metrics`` (loopback by default) through a same-host proxy, and one
  attacker's failed keys locked out every other client behind that proxy;
- API key names took control characters and bidirectional overrides: a name with a line
  break made ``send_key_expiry_notices`` raise (BadHeaderError on the Subject), so that
  key's notice was marked sent but never mailed and the run stopped for every later key;
- an IP allowlist had no size limit outside the API serializer (the UI and the services
  took any number of entries): every later change compares old and new lists pairwise
  (5,000 entries each: ~10 s of a worker), every request scans the whole list.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from tater.exceptions import InvalidInput
from tests.factories import make_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"
SECRET = re.compile(r"\b(?:tater_|ak_|ck_)[0-9a-f]{32}\b")
INSIDE = "10.1.2.3"  # inside the caller key's allowlist
OUTSIDER = "198.51.100.7"
PROXY = "10.0.0.5"  # the trusted reverse proxy, on the private network


# --- SPEC §2a "Keys only narrow. Through an API key, a key's restrictions can only tighten:
# ... a smaller or new IP allowlist, an earlier or new expiry, a stricter rate limit.
# Widening any of them ... needs the owner's signed-in session." Rotation hands out the
# target's secret: through a restricted key, a looser key's secret is a widened credential.

RESTRICTIONS = {
    "allowed_ips": {"allowed_ips": ["10.0.0.0/8"]},
    "expires_at": {"expires_at": "tomorrow"},
    "rate_limit": {"rate_limit": "5/min"},
    "usage_limit": {"usage_limit": 100},
}


def _restricted_key(world: dict[str, Any], restriction: dict[str, Any]) -> tuple[ApiKey, str]:
    kwargs = dict(restriction)
    if kwargs.get("expires_at") == "tomorrow":
        kwargs["expires_at"] = timezone.now() + timedelta(days=1)
    return make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*"], **kwargs)


@pytest.mark.parametrize("restriction", RESTRICTIONS.values(), ids=RESTRICTIONS.keys())
def test_restricted_key_cannot_rotate_a_looser_sibling_and_take_its_secret(
    api: Any, world: dict[str, Any], restriction: dict[str, Any]
) -> None:
    """The owner's org1 key with an allowlist / expiry / rate / usage limit rotates the
    owner's unrestricted org1 key (same scopes) and gets a secret without that restriction."""
    _, raw = _restricted_key(world, restriction)
    looser = world["owner_key"]
    assert looser.allowed_ips == [] and looser.expires_at is None and not looser.rate_limit
    digest = ApiKey.objects.get(pk=looser.pk).digest
    r = api.post(f"{KEYS}{looser.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR=INSIDE)
    assert r.status_code in (403, 404), r.content
    assert not SECRET.search(r.content.decode())
    assert ApiKey.objects.get(pk=looser.pk).digest == digest


def test_allowlisted_key_does_not_become_a_key_usable_from_anywhere(api: Any, world: dict[str, Any]) -> None:
    """The attacker's story end to end: the secret obtained works from outside the allowlist."""
    _, raw = _restricted_key(world, RESTRICTIONS["allowed_ips"])
    r = api.post(
        f"{KEYS}{world['owner_key'].public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR=INSIDE
    )
    obtained = r.json().get("key") if r.status_code == 200 else None
    if obtained is not None:
        outside = api.get(VALIDATE, HTTP_X_API_KEY=obtained, REMOTE_ADDR=OUTSIDER)
        assert outside.status_code == 403, "an address-bound key obtained a key that works from anywhere"


@pytest.mark.parametrize("restriction", RESTRICTIONS.values(), ids=RESTRICTIONS.keys())
def test_guard_restricted_key_still_rotates_itself(
    api: Any, world: dict[str, Any], restriction: dict[str, Any]
) -> None:
    """Guard (passes): rotating the calling key itself loosens nothing."""
    key, raw = _restricted_key(world, restriction)
    r = api.post(f"{KEYS}{key.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR=INSIDE)
    assert r.status_code == 200, r.content
    assert SECRET.search(r.content.decode())


def test_guard_restricted_key_still_rotates_a_sibling_at_least_as_strict(api: Any, world: dict[str, Any]) -> None:
    """Guard (passes): a sibling inside the caller's allowlist, expiring earlier, may be rotated."""
    soon = timezone.now() + timedelta(hours=2)
    _, raw = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        allowed_ips=["10.0.0.0/8"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    strict, _ = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        scopes=["scans:read"],
        allowed_ips=["10.1.0.0/16"],
        expires_at=soon,
    )
    r = api.post(f"{KEYS}{strict.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR=INSIDE)
    assert r.status_code == 200, r.content


# --- SPEC §2 "optional IP allowlist", §6 "from one client address", §12 /metrics "restricted
# by TATER_METRICS_ALLOWED_IPS": behind trusted proxies the client is the address the proxy
# wrote, never the proxy's own address when that entry is written with a port or unknown.

PROXY_WRITTEN = ["203.0.113.9:51234", "[2001:db8::9]:443", "unknown"]


@pytest.mark.parametrize("entry", PROXY_WRITTEN)
def test_outsider_behind_proxy_does_not_pass_an_allowlist_as_the_proxy(
    api: Any, world: dict[str, Any], settings: Any, entry: str
) -> None:
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=["10.0.0.0/8"])
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {entry}")
    assert r.status_code == 403 and r.json()["error"] == "IP_NOT_ALLOWED", r.content


def test_client_address_written_with_a_port_is_the_clients(api: Any, world: dict[str, Any], settings: Any) -> None:
    """The address itself is what an allowlist and the key's last-used address see."""
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=["203.0.113.0/24"])
    r = api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9:51234")
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("entry", PROXY_WRITTEN)
def test_outsider_behind_a_same_host_proxy_does_not_read_metrics(settings: Any, entry: str) -> None:
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    r = Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR=entry)
    assert r.status_code == 404, r.content[:200]


def test_one_client_behind_a_port_writing_proxy_does_not_lock_out_the_others(
    api: Any, world: dict[str, Any], settings: Any
) -> None:
    settings.TATER_TRUSTED_PROXY_COUNT = 1
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 3
    bad = "tater_" + "1" * 32
    for _ in range(4):
        api.get(VALIDATE, HTTP_X_API_KEY=bad, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9:1111")
    r = api.get(VALIDATE, HTTP_X_API_KEY=bad, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.20:2222")
    assert r.status_code == 401, r.content


# --- SPEC §3 "bad body ... 400 VALIDATION_ERROR names the failing field", §14 expiry notices:
# a key name is one line of text shown in lists, the Activity Log and mail subjects.


@pytest.mark.parametrize("name", ["deploy\nBcc: x@example.org", "ci\x1b[2Jkey", "prod\u202egpj.exe"])
def test_key_name_with_control_or_bidi_characters_is_a_400(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_authenticate(world["member"])
    r = api.post(KEYS, {"name": name}, format="json", HTTP_X_WORKSPACE_ID=world["org1"].public_id)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR" and "name" in body["message"].lower(), body
    assert not ApiKey.objects.filter(name=name).exists()


def test_a_key_name_with_a_line_break_does_not_stop_the_expiry_notices(world: dict[str, Any]) -> None:
    """A row named before names were checked (or by an operator's command) still gets its
    notice, and so does every other key due in the same run."""
    soon = timezone.now() + timedelta(days=5)
    odd, _ = make_key(user=world["member"], tenant=world["tenant"], org=world["org1"], name="odd", expires_at=soon)
    ApiKey.objects.filter(pk=odd.pk).update(name="nightly\nsync")
    for i in range(3):
        make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name=f"k{i}", expires_at=soon)
    call_command("send_key_expiry_notices")
    assert len(mail.outbox) == 4, [m.subject for m in mail.outbox]
    assert all("\n" not in m.subject for m in mail.outbox)


# --- SPEC §2a "These rules hold on every channel": the API takes at most 100 allowlist
# entries; the UI and the services took any number.


def test_allowlist_size_is_bounded_on_every_channel(world: dict[str, Any]) -> None:
    many = [f"10.{i // 256}.{i % 256}.0/24" for i in range(1000)]
    with pytest.raises(InvalidInput):
        key_services.apikey_create(
            creator=world["member"], tenant=world["tenant"], organization=world["org1"], name="big", allowed_ips=many
        )


def test_allowlist_size_is_bounded_in_the_ui(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["member"])
    form = {"type": "standard", "binding": "org", "preset": "full", "expires_in": "30"}
    small = client.post(reverse("apikey_create"), {**form, "name": "small", "allowed_ips": "10.0.0.0/8\n10.1.0.0/16"})
    assert small.status_code == 200 and ApiKey.objects.filter(name="small").exists()  # the form works
    many = "\n".join(f"10.{i // 256}.{i % 256}.0/24" for i in range(1000))
    big = client.post(reverse("apikey_create"), {**form, "name": "big", "allowed_ips": many})
    assert big.status_code == 400
    assert not ApiKey.objects.filter(name="big").exists()
