"""Review s45 (SPEC §1, §7): only a tenant owner changes the plan and policies. An owner opens
the settings page and submits it (here: lifting the maximum key lifetime and letting every
member create keys) at the moment another owner demotes them to tenant admin. The change read
the submitter's role before it queued behind the demotion on the tenant row, then went ahead
once the demotion was saved: a tenant admin had lifted the owner's policies, audited as their
change. The role is now read once the tenant row is held: the change is refused (403) and the
policies stay as they were."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Tenant, TenantMembership
from tater.exceptions import NotPermitted
from tests.factories import UserFactory, make_tenant
from tests.races import while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def test_a_policy_change_submitted_while_its_owner_is_demoted_is_refused() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    tenant, owner, _ = make_tenant(name="Demotion race")
    co_owner = UserFactory(email="co-owner@demotion.test")
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=30, key_creation_policy="owners")

    errors = while_held(
        # paused once the tenant row is held, the demotion not saved yet
        lambda: org_services.tenant_member_set(tenant=tenant, user=co_owner, role="admin", actor=owner),
        lambda: org_services.tenant_update(
            tenant=tenant, actor=co_owner, max_key_lifetime_days=None, key_creation_policy="members"
        ),
        pause_in=(org_services, "require_owner_remains"),
        seconds=0.7,
    )

    assert TenantMembership.objects.get(tenant=tenant, user=co_owner).role == "admin"
    assert len(errors) == 1 and isinstance(errors[0], NotPermitted), errors
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.max_key_lifetime_days, tenant.key_creation_policy) == (30, "owners")
    assert not AuditEvent.objects.filter(tenant=tenant, action="tenant.updated", actor_user=co_owner).exists()
