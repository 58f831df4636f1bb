"""SPEC §12 (operations at scale; the admin's lists open in constant time, README): the keys,
SCIM tokens, SCIM users and SCIM groups lists had a "By tenant" sidebar listing every tenant,
so each page view read and drew every tenant's name: thousands of links on a big deployment.
The filter now lists tenants only while there are few; beyond that it shows the chosen one
and the search box finds by tenant name or id. Filtering by a tenant keeps working."""

from __future__ import annotations

from typing import Any

import pytest

from orgs.models import Tenant
from tests.factories import make_key, make_tenant, operator_client

pytestmark = pytest.mark.django_db

LISTS = ("/admin/apikeys/apikey/", "/admin/scim/scimtoken/", "/admin/scim/scimuser/", "/admin/scim/scimgroup/")


def _many_tenants(n: int) -> None:
    Tenant.objects.bulk_create(Tenant(name=f"Bulk tenant {i:03d}") for i in range(n))


@pytest.mark.parametrize("path", LISTS)
def test_the_sidebar_does_not_list_every_tenant(settings: Any, path: str) -> None:
    client = operator_client(settings)
    _many_tenants(60)
    page = client.get(path).content.decode()
    assert page.count("Bulk tenant") < 60, path


def test_filtering_and_searching_by_tenant_still_work(settings: Any) -> None:
    client = operator_client(settings)
    _many_tenants(60)
    tenant, owner, (org,) = make_tenant(name="Wanted")
    other, other_owner, (other_org,) = make_tenant(name="Unwanted")
    make_key(user=owner, tenant=tenant, org=org, name="wanted key")
    make_key(user=other_owner, tenant=other, org=other_org, name="unwanted key")
    by_filter = client.get(f"/admin/apikeys/apikey/?tenant__id__exact={tenant.pk}").content.decode()
    assert "wanted key" in by_filter and "unwanted key" not in by_filter
    assert "Wanted" in by_filter  # the chosen tenant is shown in the sidebar
    by_search = client.get(f"/admin/apikeys/apikey/?q={tenant.public_id}").content.decode()
    assert "wanted key" in by_search and "unwanted key" not in by_search
