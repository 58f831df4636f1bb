"""Found by a review of key input consistency (2026-12-06), expectations from SPEC §2
("optional expires_at (tenant policy may cap the lifetime)") and §5 (the credential exchange):

under a tenant's maximum key lifetime, a key created without ``expires_at`` got the longest
lifetime the tenant allows through the credential exchange (``POST auth/token``, Taffy's
``/auth/token``) and a rotation, but a 400 "This tenant requires keys to expire within 30 days"
through ``POST /api/v1/keys/`` from a signed-in session and through ``manage.py
create_api_key``: the same omission, two answers. Every channel now gives the longest lifetime
the tenant allows (README, "Who may act on which object").
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from apikeys.models import ApiKey
from orgs.models import Tenant

pytestmark = pytest.mark.django_db
DAYS = 30


def _within_the_cap(key: ApiKey) -> None:
    now = timezone.now()
    assert key.expires_at is not None, "a capped tenant's key never expires"
    assert now + timedelta(days=DAYS) - timedelta(minutes=5) < key.expires_at <= now + timedelta(days=DAYS)


@pytest.fixture
def capped(world: dict[str, Any]) -> dict[str, Any]:
    Tenant.objects.filter(pk=world["tenant"].pk).update(max_key_lifetime_days=DAYS)
    world["tenant"].refresh_from_db()
    return world


def test_a_session_create_without_expiry_gets_the_longest_lifetime_allowed(api, capped):
    api.force_login(capped["owner"])
    r = api.post(f"/api/v1/keys/?organizationId={capped['org1'].public_id}", {"name": "ci"}, format="json")
    assert r.status_code == 201, r.json()
    _within_the_cap(ApiKey.objects.get(public_id=r.json()["id"]))


def test_the_command_without_expiry_gets_the_longest_lifetime_allowed(capped):
    out = StringIO()
    call_command(
        "create_api_key",
        "--user",
        capped["owner"].email,
        "--tenant",
        capped["tenant"].public_id,
        "--org",
        capped["org1"].public_id,
        "--json",
        stdout=out,
    )
    _within_the_cap(ApiKey.objects.get(public_id=json.loads(out.getvalue())["id"]))


def test_a_later_expiry_is_still_refused(api, capped):
    api.force_login(capped["owner"])
    later = (timezone.now() + timedelta(days=DAYS * 2)).isoformat()
    r = api.post(
        f"/api/v1/keys/?organizationId={capped['org1'].public_id}",
        {"name": "ci", "expires_at": later},
        format="json",
    )
    assert r.status_code == 400 and "expires_at" in r.json()["details"]["fields"]
