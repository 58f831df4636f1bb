"""``manage.py apply_key_policies``: keys issued before removal revoked and a maximum lifetime
capped them (this release) get the same treatment once, audited; SCIM-suspended people keep
theirs; a second run changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import OrgMembership, Tenant
from scim.models import ScimUser
from tests.factories import add_member, make_key, make_tenant

pytestmark = pytest.mark.django_db


def run() -> dict:
    out = StringIO()
    call_command("apply_key_policies", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_keys_of_owners_removed_before_the_release_are_revoked_once() -> None:
    tenant, owner, (org,) = make_tenant(name="Old")
    gone, kept, suspended = add_member(org, "member"), add_member(org, "member"), add_member(org, "member")
    gone_key, _ = make_key(user=gone, tenant=tenant, org=org)
    kept_key, _ = make_key(user=kept, tenant=tenant, org=org)
    suspended_key, _ = make_key(user=suspended, tenant=tenant, org=org)
    # Removed the way releases before this one did: the rows went, the keys stayed.
    OrgMembership.objects.filter(user__in=[gone, suspended]).delete()
    ScimUser.objects.create(
        tenant=tenant, user=suspended, user_name=suspended.email, user_name_key=suspended.email, active=False
    )

    assert run()["revoked"] == 1

    assert ApiKey.objects.get(pk=gone_key.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=kept_key.pk).revoked_at is None
    assert ApiKey.objects.get(pk=suspended_key.pk).revoked_at is None
    entry = AuditEvent.objects.get(action="api_key.revoked", target_id=gone_key.public_id)
    assert entry.channel == "system" and entry.changes.get("reason") == "owner removed"
    assert run() == {"revoked": 0, "capped": 0}


def test_keys_outliving_an_existing_maximum_lifetime_are_capped_once() -> None:
    tenant, owner, (org,) = make_tenant(name="Capped")
    forever, _ = make_key(user=owner, tenant=tenant, org=org)
    soon, _ = make_key(user=owner, tenant=tenant, org=org, expires_at=timezone.now() + timedelta(days=3))
    # A maximum set before this release, which left the keys as they were.
    Tenant.objects.filter(pk=tenant.pk).update(max_key_lifetime_days=30)

    assert run()["capped"] == 1

    capped = ApiKey.objects.get(pk=forever.pk).expires_at
    assert capped is not None
    assert timedelta(days=29) < capped - timezone.now() <= timedelta(days=30)
    assert ApiKey.objects.get(pk=soon.pk).expires_at == soon.expires_at
    assert AuditEvent.objects.filter(action="api_key.updated", target_id=forever.public_id).count() == 1
    assert run() == {"revoked": 0, "capped": 0}
