"""SPEC §10 operators manage tenants in the admin; README (admin changes only what was changed on
the page, as the settings page does). Review s48 made a tenant's and an organization's name
refuse a live secret, and the admin's tenant and organization pages checked the name they
posted back unchanged: an operator moving a tenant named before the check after a key
("Acme tater_…") to another plan, or changing an organization's slug, got "holds an API key"
on a name they did not touch and could save nothing without renaming the customer's tenant.
A name left as it is now stays; a new name holding a secret is still refused."""

from __future__ import annotations

from typing import Any

import pytest

from orgs.models import Organization, Tenant
from tests.factories import make_key, make_tenant, operator_client
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db


def _stored_with_a_key() -> tuple[Tenant, Organization, str]:
    tenant, owner, orgs = make_tenant(name="Acme", orgs=1)
    secret = make_key(user=owner, tenant=tenant, org=orgs[0])[1]
    Tenant.objects.filter(pk=tenant.pk).update(name=f"Acme {secret}")
    Organization.objects.filter(pk=orgs[0].pk).update(name=f"Ops {secret}")
    return tenant, orgs[0], secret


def test_an_operator_changes_the_plan_of_a_tenant_whose_name_holds_a_key(settings: Any) -> None:
    tenant, _, secret = _stored_with_a_key()
    client = operator_client(settings)
    page = f"/admin/orgs/tenant/{tenant.pk}/change/"
    data = admin_form_data(client, page)
    assert data["name"] == f"Acme {secret}" and data["plan"] != "enterprise"
    r = client.post(page, {**data, "plan": "enterprise"})
    assert r.status_code == 302, r.content.decode()[:3000]
    tenant.refresh_from_db()
    assert tenant.plan == "enterprise" and tenant.name == f"Acme {secret}"


def test_an_operator_changes_the_slug_of_an_org_whose_name_holds_a_key(settings: Any) -> None:
    _, org, secret = _stored_with_a_key()
    client = operator_client(settings)
    page = f"/admin/orgs/organization/{org.pk}/change/"
    r = client.post(page, {**admin_form_data(client, page), "slug": "ops-renamed"})
    assert r.status_code == 302, r.content.decode()[:3000]
    org.refresh_from_db()
    assert org.slug == "ops-renamed" and org.name == f"Ops {secret}"


def test_a_new_tenant_name_holding_a_key_is_still_refused(settings: Any) -> None:
    tenant, _, secret = _stored_with_a_key()
    client = operator_client(settings)
    page = f"/admin/orgs/tenant/{tenant.pk}/change/"
    r = client.post(page, {**admin_form_data(client, page), "name": f"Renamed {secret}"})
    assert r.status_code == 200 and "holds an API key" in r.content.decode()
    tenant.refresh_from_db()
    assert tenant.name == f"Acme {secret}"
