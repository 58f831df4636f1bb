"""SPEC §1, §9: two tenant owners on the Members page. The first opened it while Bob was a tenant
admin; meanwhile the second dropped Bob's tenant role. The first pressed "Change" on Bob's tenant
role without touching the select (it still showed Tenant admin): Bob was silently a tenant admin
again, reaching every organization. The row posts the tenant role the page showed, as the org role
row does: left unchanged it changes nothing, and a role chosen over one someone else changed
meanwhile is refused naming it (saving again, having seen it, replaces it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import services as org_services
from orgs.models import TenantMembership
from tests.factories import UserFactory, add_member, make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def _stale_row() -> tuple[Any, Any, Client, _Form]:
    tenant, owner, (org,) = make_tenant(name="Acme")
    co_owner = UserFactory()
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    bob = add_member(org, "member")
    org_services.tenant_member_set(tenant=tenant, user=bob, role="admin")
    tab = Client()
    tab.force_login(owner)
    form = _Form(tab.get("/members/").content.decode(), f"/members/{bob.pk}/tenant-role/")
    assert form.data[f"t{bob.pk}-tenant_role"] == "admin"
    org_services.tenant_member_set(tenant=tenant, user=bob, role=None, actor=co_owner)
    return tenant, bob, tab, form


def _tenant_role(tenant: Any, user: Any) -> str | None:
    found = TenantMembership.objects.filter(tenant=tenant, user=user).first()
    return found.role if found else None


def test_an_unchanged_tenant_role_on_a_stale_page_does_not_promote_back() -> None:
    tenant, bob, tab, form = _stale_row()
    answer = tab.post(form.action, form.data, follow=True)
    assert _tenant_role(tenant, bob) is None
    assert "No tenant role, nothing changed" in answer.content.decode()


def test_a_tenant_role_changed_meanwhile_is_refused_then_replaced_once_seen() -> None:
    tenant, bob, tab, form = _stale_row()
    answer = tab.post(form.action, {**form.data, f"t{bob.pk}-tenant_role": "owner"})
    assert answer.status_code == 400
    assert "it is now no tenant role" in answer.content.decode().lower()
    assert _tenant_role(tenant, bob) is None

    again = _Form(answer.content.decode(), f"/members/{bob.pk}/tenant-role/")
    tab.post(again.action, {**again.data, f"t{bob.pk}-tenant_role": "owner"})
    assert _tenant_role(tenant, bob) == "owner"
