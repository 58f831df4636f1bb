"""The key page as people meet it (Django test client): a rotation's grace period can be
watched (old prefix, until when, each secret's last use), recent addresses, the usage limit
(shown, set on create and edit, a refused widening shown on the form) and the usage chart's
ranges, totals and whole-number axis."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys import uses
from apikeys.forms import access_level
from apikeys.key_page import time_left
from apikeys.models import ApiKey
from apikeys.usage_chart import axis_ticks
from tater import scopes as S
from tests.factories import make_key

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"


def _page(client: Client, key: ApiKey, **params: str) -> str:
    response = client.get(reverse("apikey_detail", args=[key.public_id]), params)
    assert response.status_code == 200
    return response.content.decode()


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- 1. Watching a rotation ---------------------------------------------------------------------


def test_rotation_shows_old_prefix_deadline_and_each_secrets_last_use(world: dict[str, Any]) -> None:
    key, old_raw = world["owner_key"], world["owner_raw"]
    old_prefix = key.display_prefix
    issued = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=3 * 3600)
    client = _signed_in(world["owner"])
    text = _text(_page(client, issued.api_key))
    assert "Rotation in progress" in text
    assert f"{old_prefix}…" in text and f"{issued.api_key.display_prefix}…" in text
    assert re.search(r"works until .+ \(in 2 h\)", text), text  # 2 h 59 min, rounded down
    assert "Old secret last used Never since rotation" in text
    assert "New secret last used Not yet" in text
    # A call with the old secret: the page says the old secret is still in use.
    assert APIClient().get(VALIDATE, HTTP_X_API_KEY=old_raw).status_code == 200
    text = _text(_page(client, issued.api_key))
    assert re.search(r"Old secret last used now|Old secret last used \d+ seconds? ago", text), text
    assert "Something still calls with the old secret" in text
    assert "New secret last used Not yet" in text
    # Then with the new one.
    assert APIClient().get(VALIDATE, HTTP_X_API_KEY=issued.key).status_code == 200
    text = _text(_page(client, issued.api_key))
    assert "New secret last used Not yet" not in text


def test_no_rotation_panel_outside_a_grace_period(world: dict[str, Any]) -> None:
    key = world["owner_key"]
    client = _signed_in(world["owner"])
    assert "Rotation in progress" not in _page(client, key)
    issued = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0)
    assert "Rotation in progress" not in _page(client, issued.api_key)


def test_time_left_wording() -> None:
    assert time_left(timedelta(seconds=30)) == "in less than a minute"
    assert time_left(timedelta(minutes=25, seconds=5)) == "in 25 min"
    assert time_left(timedelta(hours=3)) == "in 3 h"
    assert time_left(timedelta(days=3, hours=1)) == "in 3 days"


# --- 2. Recent addresses and the usage limit ----------------------------------------------------


def test_recent_addresses_newest_first(world: dict[str, Any]) -> None:
    key = world["owner_key"]
    for ip in ("203.0.113.7", "198.51.100.2"):
        assert APIClient(REMOTE_ADDR=ip).get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200
    key.refresh_from_db()
    assert [entry["ip"] for entry in key.recent_ips] == ["198.51.100.2", "203.0.113.7"]
    page = _page(_signed_in(world["owner"]), key)
    section = page[page.index("Recent addresses") :]
    assert section.index("198.51.100.2") < section.index("203.0.113.7")


def test_usage_limited_key_shows_limit_remaining_and_refill(world: dict[str, Any]) -> None:
    key, raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=5, usage_refill="daily"
    )
    for _ in range(2):
        assert APIClient().get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    current = uses.current(key.pk, key.usage_limit, key.usage_refill)
    assert current is not None and current.remaining == 3
    text = _text(_page(_signed_in(world["owner"]), key))
    assert "Usage limit Limit 5 requests per period Remaining 3 Refill Daily (00:00 UTC): next" in text
    # A key without a limit has no such card.
    assert "Remaining" not in _text(_page(_signed_in(world["owner"]), world["owner_key"]))


def test_a_usage_limit_never_refilled_reads_in_total(world: dict[str, Any]) -> None:
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=1000)
    text = _text(_page(_signed_in(world["owner"]), key))
    assert "Limit 1000 requests in total Remaining 1000 Refill Never" in text


def test_create_form_takes_a_usage_limit(world: dict[str, Any]) -> None:
    client = _signed_in(world["owner"])
    page = client.get(reverse("apikey_create")).content.decode()
    assert 'name="usage_limit"' in page and 'name="usage_refill"' in page
    response = client.post(
        reverse("apikey_create"),
        {
            "type": "standard",
            "name": "metered",
            "binding": "org",
            "preset": "full",
            "expires_in": "30",
            "usage_limit": "1000",
            "usage_refill": "monthly",
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    key = ApiKey.objects.get(name="metered")
    assert (key.usage_limit, key.usage_refill) == (1000, "monthly")
    # A refill without a limit, and a zero limit: both reported, nothing created.
    bad = client.post(
        reverse("apikey_create"),
        {
            "type": "standard",
            "name": "bad",
            "binding": "org",
            "preset": "full",
            "expires_in": "30",
            "usage_refill": "daily",
        },
    )
    assert bad.status_code == 400 and "Set a usage limit to refill, or choose Never." in bad.content.decode()
    zero = client.post(
        reverse("apikey_create"),
        {
            "type": "standard",
            "name": "zero",
            "binding": "org",
            "preset": "full",
            "expires_in": "30",
            "usage_limit": "0",
        },
    )
    assert zero.status_code == 400 and "at least 1 request" in zero.content.decode()
    assert not ApiKey.objects.filter(name__in=["bad", "zero"]).exists()


def _edit_data(key: ApiKey, **changes: str) -> dict[str, str]:
    data = {
        "name": key.name,
        "expires_in": "keep",
        "allowed_ips": "",
        "rate_limit": "",
        "usage_limit": str(key.usage_limit or ""),
        "usage_refill": key.usage_refill,
        **{f"perm_{r}": "write" for r in ("organizations", "members", "keys", "scans")},
        "perm_audit": "read",
    }
    data.update(changes)
    return data


def test_edit_form_sets_and_narrows_usage_limit_and_refuses_an_admins_widening(world: dict[str, Any]) -> None:
    key = world["owner_key"]
    owner = _signed_in(world["owner"])
    url = reverse("apikey_edit", args=[key.public_id])
    response = owner.post(url, _edit_data(key, usage_limit="100", usage_refill="daily"))
    assert response.status_code == 302, response.content.decode()[:2000]
    key.refresh_from_db()
    assert (key.usage_limit, key.usage_refill) == (100, "daily")
    page = owner.get(url).content.decode()
    assert re.search(r'name="usage_limit" value="100"', page)
    # An org admin may narrow another person's key, never widen it: the refusal is on the field.
    admin = _signed_in(world["admin"])
    narrowed = admin.post(url, _edit_data(key, usage_limit="50"))
    assert narrowed.status_code == 302
    refused = admin.post(url, _edit_data(ApiKey.objects.get(pk=key.pk), usage_limit="5000"))
    body = refused.content.decode()
    assert refused.status_code == 400
    assert re.search(r'id="id_usage_limit_error".*?owner', body, re.S), _text(body)[:3000]
    key.refresh_from_db()
    assert key.usage_limit == 50


# --- 3. The usage chart ---------------------------------------------------------------------------


def test_chart_ranges_totals_and_responsive_svg(world: dict[str, Any]) -> None:
    key, raw = world["owner_key"], world["owner_raw"]
    for _ in range(3):
        APIClient().get(VALIDATE, HTTP_X_API_KEY=raw)
    APIClient().get("/api/v1/keys/key-nope/", HTTP_X_API_KEY=raw)
    client = _signed_in(world["owner"])
    for range_key, label in (("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days")):
        page = _page(client, key, range=range_key)
        assert re.search(rf'<a href="\?range={range_key}#usage" aria-current="true">{label}</a>', page)
        assert re.search(r'data-testid="usage-requests">4<', page) and re.search(r'data-testid="usage-errors">1<', page)
        svgs = re.findall(r"<svg [^>]*>", page[page.index('id="usage"') :])
        assert len(svgs) == 2
        for svg in svgs:
            assert 'width="100%"' in svg and "viewBox=" in svg and 'width="720"' not in svg
    # Daily buckets for 30 days: 30 bars' tooltips, one per UTC day.
    page = _page(client, key, range="30d")
    assert len(set(re.findall(r"<title>(\d{4}-\d\d-\d\d UTC): ", page))) == 30
    assert len(set(re.findall(r"<title>(\d{4}-\d\d-\d\d \d\d:00 UTC): ", _page(client, key, range="24h")))) == 24
    # An unknown range falls back to the default (7 days).
    assert 'aria-current="true">7 days<' in _page(client, key, range="nonsense")


def test_axis_ticks_are_whole_numbers() -> None:
    assert axis_ticks(1) == [0, 1]
    assert axis_ticks(2) == [0, 1, 2]
    assert axis_ticks(5) == [0, 5]
    assert axis_ticks(10) == [0, 5, 10]


def test_small_counts_never_get_a_half_tick(world: dict[str, Any]) -> None:
    APIClient().get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
    page = _page(_signed_in(world["owner"]), world["owner_key"], range="24h")
    ticks = re.findall(r'class="usage-chart__tick">([^<]+)</text>', page)
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks) and "0.5" not in ticks


def test_expired_grace_is_not_shown(world: dict[str, Any]) -> None:
    issued = key_services.apikey_rotate(api_key=world["owner_key"], actor=world["owner"], grace_period_seconds=3600)
    ApiKey.objects.filter(pk=issued.api_key.pk).update(previous_expires_at=timezone.now() - timedelta(seconds=1))
    assert "Rotation in progress" not in _page(_signed_in(world["owner"]), issued.api_key)


def test_an_admin_is_offered_only_earlier_expiries_for_another_persons_key(world: dict[str, Any]) -> None:
    """SPEC §2a: admins narrow, never widen: the edit page offers an admin the expiries that
    bring the key's forward, not "Never expires" or later dates that can only be refused."""
    key = world["member_key"]
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() + timedelta(days=45))
    url = reverse("apikey_edit", args=[key.public_id])
    offered = re.findall(r'<option value="([^"]*)"', _signed_in(world["admin"]).get(url).content.decode())
    expiry = [value for value in offered if value == "keep" or value == "never" or value.isdigit()]
    assert "never" not in expiry and "keep" in expiry
    assert all(int(value) <= 45 for value in expiry if value.isdigit()), expiry
    assert any(value.isdigit() for value in expiry), expiry
    # A later expiry posted anyway is refused, in words.
    own = {f"perm_{r}": access_level(r, S.expand(key.scopes)) for r in S.RESOURCES}  # its scopes, unchanged
    refused = _signed_in(world["admin"]).post(url, _edit_data(key, expires_in="365", **own))
    assert refused.status_code == 400
    assert "remove its expiry or move it later" in _text(refused.content.decode()), _text(refused.content.decode())
    # The owner sees every choice.
    owner_offered = re.findall(r'<option value="([^"]*)"', _signed_in(world["member"]).get(url).content.decode())
    assert "never" in owner_offered or "" in owner_offered
