"""Review s35: a tenant that sets or lowers its maximum key lifetime (SPEC §2: "tenant policy
may cap the lifetime").

Until this review the cap held only for keys created (and rotated) after it: a key without
expiry, or expiring later than the new maximum allows, kept its reach for as long as it had,
years or forever. Decision (docs/authorization.md, "A new maximum key lifetime"): setting or
lowering it brings every unrevoked key of the tenant that would outlive it to expire at
``now + maximum`` (not counted from its creation, so no integration dies the second the
policy is saved), in the same transaction, one ``api_key.updated`` entry per key (reason
``tenant maximum key lifetime``), on every channel (settings page, admin).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import services as key_services
from audit.models import AuditEvent
from orgs import services as org_services
from tests.factories import make_key
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.security.test_channel_parity_review import _change

pytestmark = pytest.mark.django_db

SETTINGS = {"plan": "free", "key_creation_policy": "members", "token_exchange_policy": "owners"}


def set_lifetime_on_the_settings_page(owner: Any, days: int | None) -> None:
    browser = Client()
    browser.force_login(owner)
    r = browser.post("/settings/tenant/", {**SETTINGS, "max_key_lifetime_days": "" if days is None else str(days)})
    assert r.status_code == 302, r.content[:2000]


def close_to(value: datetime | None, expected: datetime) -> bool:
    return value is not None and abs(value - expected) < timedelta(minutes=2)


def test_setting_a_maximum_caps_the_keys_that_would_outlive_it(world):
    tenant, owner, member = world["tenant"], world["owner"], world["member"]
    now = timezone.now()
    forever, forever_raw = world["member_key"], world["member_raw"]  # no expiry
    late, _ = make_key(user=member, tenant=tenant, org=world["org1"], name="late", expires_at=now + timedelta(days=400))
    soon_at = now + timedelta(days=10)
    soon, _ = make_key(user=member, tenant=tenant, org=world["org1"], name="soon", expires_at=soon_at)
    unbound, _ = make_key(user=owner, tenant=tenant, org=None, name="unbound")
    switched_off, _ = make_key(user=member, tenant=tenant, org=world["org1"], name="off")
    key_services.apikey_set_active(api_key=switched_off, actor=member, active=False)
    gone, _ = make_key(user=member, tenant=tenant, org=world["org1"], name="revoked")
    key_services.apikey_revoke(api_key=gone, actor=member)
    r = APIClient().get("/api/v1/auth/validate", HTTP_X_API_KEY=forever_raw)
    assert r.status_code == 200 and r.json()["expires_at"] is None  # memoized without expiry

    set_lifetime_on_the_settings_page(owner, 30)
    cap = timezone.now() + timedelta(days=30)
    for key in (forever, late, unbound, switched_off):
        key.refresh_from_db()
        assert close_to(key.expires_at, cap), f"{key.name} keeps {key.expires_at} past the tenant's maximum"
        entry = AuditEvent.objects.get(action="api_key.updated", target_id=key.public_id)
        assert entry.changes["reason"] == "tenant maximum key lifetime"
        assert entry.changes["expires_at"]["to"] == key.expires_at.isoformat()
        assert entry.actor_user_id == owner.pk and entry.channel == "ui"
    soon.refresh_from_db()
    assert soon.expires_at == soon_at
    gone.refresh_from_db()
    assert gone.expires_at is None  # revocation is final anyway
    world["other_key"].refresh_from_db()
    assert world["other_key"].expires_at is None  # another tenant's
    # The key itself, and its owner's list, show the new expiry at once.
    r = APIClient().get("/api/v1/auth/validate", HTTP_X_API_KEY=forever_raw)
    assert r.status_code == 200 and close_to(datetime.fromisoformat(r.json()["expires_at"]), cap)
    r = APIClient().get(f"/api/v1/keys/{forever.public_id}/", HTTP_X_API_KEY=forever_raw)
    assert r.status_code == 200 and close_to(datetime.fromisoformat(r.json()["expires_at"]), cap)


def test_lowering_the_maximum_caps_again_and_raising_or_clearing_it_changes_nothing(world):
    tenant, owner = world["tenant"], world["owner"]
    org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=90)
    key = world["member_key"]
    key.refresh_from_db()
    assert close_to(key.expires_at, timezone.now() + timedelta(days=90))
    set_lifetime_on_the_settings_page(owner, 30)
    key.refresh_from_db()
    capped = key.expires_at
    assert close_to(capped, timezone.now() + timedelta(days=30))
    set_lifetime_on_the_settings_page(owner, 60)
    set_lifetime_on_the_settings_page(owner, None)
    key.refresh_from_db()
    assert key.expires_at == capped
    assert AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).count() == 2


def test_the_admin_caps_the_keys_as_the_settings_page_does(world):
    tenant, key = world["tenant"], world["member_key"]
    admin = superuser_in_admin()
    r = _change(admin, "tenant", tenant, max_key_lifetime_days=7)
    assert r.status_code == 302, r.status_code
    tenant.refresh_from_db()
    assert tenant.max_key_lifetime_days == 7
    key.refresh_from_db()
    assert close_to(key.expires_at, timezone.now() + timedelta(days=7))
    entry = AuditEvent.objects.get(action="api_key.updated", target_id=key.public_id)
    assert entry.channel == "admin" and entry.changes["reason"] == "tenant maximum key lifetime"
    assert AuditEvent.objects.filter(action="tenant.updated", tenant=tenant, channel="admin").count() == 1


def test_a_capped_key_gets_the_notices_of_its_new_expiry():
    """The 60/30/7-day notices start again for the new expiry (as after any expiry change)."""
    from tests.factories import make_tenant

    tenant, owner, (org,) = make_tenant(name="Acme")
    key, _ = make_key(user=owner, tenant=tenant, org=org, expires_at=timezone.now() + timedelta(days=300))
    type(key).objects.filter(pk=key.pk).update(expiry_notice_days=60)
    org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=20)
    key.refresh_from_db()
    assert key.expiry_notice_days is None
