"""SPEC §10: the admin lists keys (no secrets) with a revoke action; a key changes only through
its services (revoke, the owner's and admins' pages, the API), audited. Every field of the
key's admin page is read-only, but saving the page still wrote the key row (its
``updated_at`` moved, every process's memo of it was dropped) with no audit entry: a
change channel that bypassed the rules, with nothing in it to change."""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def test_saving_the_read_only_key_page_writes_nothing() -> None:
    admin = superuser_in_admin()
    tenant, owner, (org,) = make_tenant(name="Acme")
    key, _ = make_key(user=owner, tenant=tenant, org=org)
    before = ApiKey.objects.values().get(pk=key.pk)
    entries = AuditEvent.objects.count()
    page = f"/admin/apikeys/apikey/{key.pk}/change/"
    assert admin.get(page).status_code == 200
    r = admin.post(page, {"_save": "Save"})
    assert r.status_code == 302
    assert ApiKey.objects.values().get(pk=key.pk) == before
    assert AuditEvent.objects.count() == entries
