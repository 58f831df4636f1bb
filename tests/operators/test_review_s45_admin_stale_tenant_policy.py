"""Review s45 (SPEC §1, §2, §10): an operator opens a tenant's change page in the Django admin
(say, to move it to the pro plan). Meanwhile its owner tightens the key policies on the settings
page: a 30-day maximum key lifetime, only owners create keys. The operator then saves the page
opened earlier. The admin put the older, looser values back (no cap, members create keys): a
policy the owner had just set was silently lifted, and keys created afterwards were unbounded.
The settings page already changes only what was changed on the page; the admin now does too."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Tenant
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def test_a_stale_admin_page_saved_for_the_plan_keeps_the_owners_newer_policies() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    operator = superuser_in_admin()
    url = f"/admin/orgs/tenant/{tenant.pk}/change/"
    page = operator.get(url)
    assert page.status_code == 200
    form = _Form(page.content.decode(), "")
    assert form.data["plan"] == "free" and form.data["key_creation_policy"] == "members"

    org_services.tenant_update(tenant=tenant, actor=owner, key_creation_policy="owners", max_key_lifetime_days=30)

    answer = operator.post(url, {**form.data, "plan": "pro"})
    assert answer.status_code == 302, answer.content.decode()[:3000]

    tenant = Tenant.objects.get(pk=tenant.pk)
    assert tenant.plan == "pro"
    assert tenant.key_creation_policy == "owners"
    assert tenant.max_key_lifetime_days == 30
    last = AuditEvent.objects.filter(tenant=tenant, action="tenant.updated").order_by("-pk").first()
    assert last is not None and last.channel == "admin"
    assert last.changes == {"plan": {"from": "free", "to": "pro"}}


def test_the_admin_still_changes_what_the_operator_changed() -> None:
    tenant, _, _ = make_tenant(name="Acme")
    operator = superuser_in_admin()
    url = f"/admin/orgs/tenant/{tenant.pk}/change/"
    form = _Form(operator.get(url).content.decode(), "")
    answer = operator.post(url, {**form.data, "max_key_lifetime_days": "45", "key_creation_policy": "admins"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.max_key_lifetime_days, tenant.key_creation_policy) == (45, "admins")


def test_a_hand_made_admin_post_without_shown_values_changes_what_it_names() -> None:
    tenant, _, _ = make_tenant(name="Acme")
    operator = superuser_in_admin()
    url = f"/admin/orgs/tenant/{tenant.pk}/change/"
    form = _Form(operator.get(url).content.decode(), "")
    bare = {k: v for k, v in form.data.items() if not k.startswith("initial-")}
    answer = operator.post(url, {**bare, "plan": "enterprise"})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    assert Tenant.objects.get(pk=tenant.pk).plan == "enterprise"
