"""SPEC §1 (nothing of one tenant goes to another) and §10 (operators add memberships,
organizations and SSO configurations in the admin). Found by review A (s41), as an operator
adding Alice to her company's "Finance" org: the admin's drop-downs named tenants and orgs by
their names alone, and names are each tenant's own choice, so two tenants called "Acme", or
two orgs called "Finance" in different tenants (or one named on purpose like a bigger
customer's), were identical lines, and the operator could give Alice a role in another
tenant's org. Each choice now names its tenant and id; the pages cost the same queries for 3
orgs or 9."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs import services as org_services
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db
OPTION = re.compile(r'<option value="\d+"[^>]*>([^<]*)</option>')
PAGES = {
    "/admin/orgs/orgmembership/add/": "organization",
    "/admin/orgs/tenantmembership/add/": "tenant",
    "/admin/orgs/organization/add/": "tenant",
    "/admin/accounts/tenantssoconfig/add/": "tenant and default organization",
}


def choices(admin, url: str) -> list[str]:
    r = admin.get(url)
    assert r.status_code == 200, url
    return OPTION.findall(r.content.decode())


@pytest.mark.parametrize("url", PAGES, ids=PAGES.values())
def test_tenants_and_orgs_of_the_same_name_are_told_apart(url: str) -> None:
    mine, _, (my_org,) = make_tenant(name="Acme")
    theirs, _, (their_org,) = make_tenant(name="Acme")
    org_services.org_rename(organization=their_org, name=my_org.name)  # "Acme Org 1" twice
    admin = superuser_in_admin()
    labels = choices(admin, url)
    assert len(labels) == len(set(labels)), labels
    for tenant in (mine, theirs):
        assert any(tenant.public_id in label for label in labels), (tenant.public_id, labels)
    if "orgmembership" in url or "tenantssoconfig" in url:
        for org in (my_org, their_org):
            assert any(org.public_id in label and org.tenant.public_id in label for label in labels), labels


def test_the_membership_page_costs_the_same_for_3_or_9_orgs() -> None:
    admin = superuser_in_admin()
    url = "/admin/orgs/orgmembership/add/"

    def cost() -> int:
        admin.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(url).status_code == 200
        return len(captured)

    for n in range(3):
        make_tenant(name=f"Client {n}")
    few = cost()
    for n in range(3, 9):
        make_tenant(name=f"Client {n}")
    assert cost() == few
