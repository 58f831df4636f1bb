"""Review s45 (SPEC §1, §2, §9): two owners on the tenant settings page at once. The first opens
it while there is no maximum key lifetime; meanwhile the second sets one of 30 days. The first,
meaning to *introduce* a cap, types 365 and saves: the page said "saved", and the 30-day cap the
other owner had just set was silently loosened to a year (the log then shows them changing 30 to
365, which they never saw). A setting changed on the page that someone else changed since the
page was opened is now refused with a form error that says so and shows the current value;
saving again (having seen it) changes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Tenant
from tests.factories import make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db
PAGE = "/settings/tenant/"


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _two_owners() -> tuple[Tenant, Any, Any]:
    tenant, owner, _ = make_tenant(name="Acme")
    co_owner = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    return tenant, owner, co_owner


def test_a_setting_changed_meanwhile_is_not_overwritten_unseen() -> None:
    tenant, owner, co_owner = _two_owners()
    tab = _browser(owner)
    form = _Form(tab.get(PAGE).content.decode(), PAGE)
    assert form.data["max_key_lifetime_days"] == ""

    org_services.tenant_update(tenant=tenant, actor=co_owner, max_key_lifetime_days=30)

    answer = tab.post(form.action, {**form.data, "max_key_lifetime_days": "365", "plan": "pro"})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "changed by someone else since this page was opened: it is now 30" in body.lower()
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.max_key_lifetime_days, tenant.plan) == (30, "free")  # nothing half-saved
    assert not AuditEvent.objects.filter(tenant=tenant, action="tenant.updated", actor_user=owner).exists()

    # Having seen the current value, the owner saves again: now it is their decision.
    again = _Form(body, PAGE)
    assert tab.post(again.action, {**again.data, "max_key_lifetime_days": "365"}).status_code == 302
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.max_key_lifetime_days, tenant.plan) == (365, "pro")


def test_the_same_change_made_meanwhile_is_no_conflict() -> None:
    tenant, owner, co_owner = _two_owners()
    tab = _browser(owner)
    form = _Form(tab.get(PAGE).content.decode(), PAGE)
    org_services.tenant_update(tenant=tenant, actor=co_owner, key_creation_policy="owners")
    answer = tab.post(form.action, {**form.data, "key_creation_policy": "owners", "plan": "pro"})
    assert answer.status_code == 302
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.key_creation_policy, tenant.plan) == ("owners", "pro")
