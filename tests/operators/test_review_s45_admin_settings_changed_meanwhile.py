"""Review s45 (SPEC §1, §10): an operator opens a tenant's change page in the Django admin while
it has no maximum key lifetime; meanwhile its owner sets a 30-day cap. The operator, asked to
introduce a one-year cap, types 365 and saves: the admin said it was changed, and the owner's
30-day cap was silently loosened to a year. As on the settings page, a setting someone else
changed since the page was opened is refused with an error naming its current value; saving
again, having seen it, replaces it."""

from __future__ import annotations

import pytest

from orgs import services as org_services
from orgs.models import Tenant
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def test_a_cap_set_by_the_owner_meanwhile_is_not_loosened_unseen_in_the_admin() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    operator = superuser_in_admin()
    url = f"/admin/orgs/tenant/{tenant.pk}/change/"
    form = _Form(operator.get(url).content.decode(), "")
    assert form.data["max_key_lifetime_days"] == ""

    org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=30)

    answer = operator.post(url, {**form.data, "max_key_lifetime_days": "365", "plan": "pro"})
    assert answer.status_code == 200  # the change form again, with the error
    errors = answer.context["adminform"].form.errors
    assert "max_key_lifetime_days" in errors and "it is now 30" in str(errors)
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.max_key_lifetime_days, tenant.plan) == (30, "free")

    again = _Form(answer.content.decode(), "")
    assert operator.post(url, {**again.data, "max_key_lifetime_days": "365"}).status_code == 302
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.max_key_lifetime_days, tenant.plan) == (365, "pro")
