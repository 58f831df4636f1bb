"""Found by an attacker review of keys made through keys (2026-12-06), expectations from
SPEC §2 ("tenant policy may cap the lifetime") and §2a, as docs/authorization.md decides
them: "the expiry, IP allowlist, rate limit and usage limit the call leaves out are the
calling key's".

In a tenant with a maximum key lifetime, ``POST keys/`` through an API key that expires
within it, with no ``expires_at``, was refused with 400 "This tenant requires keys to
expire within N days": the policy was checked before the calling key's expiry was taken,
so an integration had to restate an expiry it could only repeat or shorten.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


@pytest.fixture
def capped(world):
    tenant = world["tenant"]
    tenant.max_key_lifetime_days = 30
    tenant.save()
    return tenant


def test_a_key_made_through_an_expiring_key_takes_its_expiry_under_a_lifetime_cap(api, world, capped):
    expires = timezone.now() + timedelta(days=5)
    _, raw = make_key(user=world["owner"], tenant=capped, org=world["org1"], scopes=["keys:write"], expires_at=expires)
    r = api.post(KEYS, {"name": "child", "scopes": ["keys:read"]}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 201, r.content
    assert ApiKey.objects.get(name="child").expires_at == expires


def test_an_expiry_beyond_the_cap_or_the_calling_key_is_still_refused(api, world, capped):
    expires = timezone.now() + timedelta(days=5)
    _, raw = make_key(user=world["owner"], tenant=capped, org=world["org1"], scopes=["keys:write"], expires_at=expires)
    later = (expires + timedelta(days=1)).isoformat()
    r = api.post(
        KEYS, {"name": "later", "scopes": ["keys:read"], "expires_at": later}, format="json", HTTP_X_API_KEY=raw
    )
    assert r.status_code == 403 and r.json()["details"]["widened"] == ["expires_at"], r.content
    beyond = (timezone.now() + timedelta(days=40)).isoformat()
    r = api.post(KEYS, {"name": "beyond", "expires_at": beyond}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR", r.content
    assert not ApiKey.objects.filter(name__in=["later", "beyond"]).exists()
