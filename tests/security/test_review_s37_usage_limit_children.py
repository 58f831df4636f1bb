"""SPEC §14 (usage-limited keys, "exact across processes") with §2a (keys only narrow): a
key with a number of uses and ``keys:write`` made a new key with the same limit, whose uses
count from zero, every time it was about to run out: a 3-use key was never exhausted. A key
made, or a sibling rotated (its new secret handed over), through a usage-limited key brings
uses of its own on top of the caller's; both are refused (sign in to do it), as Stripe's
restricted keys cannot mint keys at all. A key without a usage limit still creates keys."""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


def limited(world, **extra):
    return make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="three uses",
        scopes=["keys:write", "keys:read", "scans:read"],
        usage_limit=3,
        **extra,
    )


def test_a_usage_limited_key_cannot_make_a_key(api, world) -> None:
    _, raw = limited(world)
    before = ApiKey.objects.count()
    for body in (
        {"name": "child", "scopes": ["scans:read"]},
        {"name": "child", "scopes": ["scans:read"], "usage_limit": 1},
    ):
        r = api.post(KEYS, body, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 403, r.content
        assert "usage_limit" in r.json()["details"]["widened"]
    assert ApiKey.objects.count() == before


def test_a_usage_limited_key_cannot_rotate_a_sibling(api, world) -> None:
    _, raw = limited(world)
    sibling, _ = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="sibling",
        scopes=["scans:read"],
        usage_limit=2,
    )
    r = api.post(f"{KEYS}{sibling.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 403, r.content
    assert "key" not in r.json()


def test_a_key_without_a_usage_limit_still_makes_keys(api, world) -> None:
    _, raw = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="plain",
        scopes=["keys:write", "scans:read"],
    )
    r = api.post(KEYS, {"name": "child", "scopes": ["scans:read"], "usage_limit": 5}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 201, r.content
