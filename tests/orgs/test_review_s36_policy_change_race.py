"""Review s36 (E): a tenant's policy change and a member joining queue, never deadlock.

Changing the tenant's policies (here its maximum key lifetime) locked the tenant row FOR UPDATE
and then wrote its audit entry. A member joining the tenant at that moment took the audit chain
and then needed a key-share lock on the tenant row (the foreign-key check of a row it writes),
which FOR UPDATE blocks, while the policy change waited for the chain: PostgreSQL aborted one
("deadlock detected", a 500 for one of two owners). Expectations (SPEC §1): both changes are
made, one after the other.
"""

from __future__ import annotations

import pytest
from django.db import connection

from orgs import services as org_services
from orgs import signals as org_signals
from orgs.models import OrgMembership, Tenant
from tests.factories import UserFactory, make_tenant
from tests.races import while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def test_a_key_lifetime_policy_change_while_a_member_joins_does_not_deadlock() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    tenant, owner, (org,) = make_tenant(name="Policy race")
    newbie = UserFactory(email="newbie@policy.test")
    errors = while_held(
        # paused once the tenant row is held, its entry not written yet
        lambda: org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=30),
        lambda: org_services.org_member_set(organization=org, user=newbie, role="member", actor=owner),
        pause_in=(org_signals.keys_sweep_ahead, "send"),
        seconds=0.7,
    )

    assert errors == []
    assert Tenant.objects.get(pk=tenant.pk).max_key_lifetime_days == 30
    assert OrgMembership.objects.filter(organization=org, user=newbie).exists()
