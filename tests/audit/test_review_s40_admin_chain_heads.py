"""SPEC §12 (operations at scale), §10 (operators: the audit log in the admin) and §7 (the
audit chain): the admin's list of audit chain heads has one row per tenant (and one for
entries without a tenant). Its Tenant column read each row's tenant in a query of its own:
a deployment of hundreds of tenants made the page issue hundreds of queries. The page now
costs the same queries for 3 tenants or 9, and still names each row's tenant."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditChainHead
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db
PAGE = "/admin/audit/auditchainhead/"


def _page(admin) -> tuple[int, str]:
    admin.get(PAGE)  # warm the session
    with CaptureQueriesContext(connection) as captured:
        r = admin.get(PAGE)
    assert r.status_code == 200
    return len(captured), r.content.decode()


def test_the_chain_heads_page_costs_the_same_queries_for_3_or_9_tenants():
    admin = superuser_in_admin()
    for n in range(3):
        make_tenant(name=f"Client {n}")
    few, _ = _page(admin)
    for n in range(3, 9):
        make_tenant(name=f"Client {n}")
    many, html = _page(admin)
    assert AuditChainHead.objects.filter(tenant__name__startswith="Client ").count() == 9
    assert many == few, (few, many)
    assert all(f"Client {n}" in html for n in range(9))
