"""SPEC §1 and §10: every tenant has an owner (only an owner changes its plan and policies,
holds unbound keys, manages SCIM tokens); `manage.py create_tenant` asks for one. A tenant
added in the Django admin had none: nobody could ever act for it. The admin's add form now
asks for the owner's email (the account is created if needed, as the command does: its
holder sets a password through reset, or signs in with SSO) and creates the tenant through
the same service, audited once with the operator as actor."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from orgs.models import Tenant, TenantMembership
from tests.factories import UserFactory
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db
ADD = "/admin/orgs/tenant/add/"


def _post(admin, **values):
    data = admin_form_data(admin, ADD)  # the inline's management form, as the browser sends it
    data.update({"name": "Globex", "plan": "pro", "key_creation_policy": "members"}, **values)
    return admin.post(ADD, data)


def test_the_add_form_asks_for_the_owner() -> None:
    admin = superuser_in_admin()
    page = admin.get(ADD)
    assert page.status_code == 200
    assert 'name="owner_email"' in page.content.decode()
    r = _post(admin)  # no owner given
    assert r.status_code == 200
    assert "owner_email" in r.context["adminform"].form.errors
    assert not Tenant.objects.filter(name="Globex").exists()


def test_a_tenant_added_in_the_admin_is_owned_by_an_existing_account() -> None:
    admin = superuser_in_admin()
    boss = UserFactory(email="boss@globex.test")
    r = _post(admin, owner_email="BOSS@globex.test", require_2fa="on", max_key_lifetime_days="90")
    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    tenant = Tenant.objects.get(name="Globex")
    assert (tenant.plan, tenant.require_2fa, tenant.max_key_lifetime_days) == ("pro", True, 90)
    assert TenantMembership.objects.get(tenant=tenant).user == boss
    assert TenantMembership.objects.get(tenant=tenant).role == "owner"
    created = AuditEvent.objects.filter(tenant=tenant, action="tenant.created")
    assert created.count() == 1
    event = created.get()
    assert event.actor_user is not None and event.actor_user.is_superuser
    assert event.channel == "admin"
    assert event.changes["owner"] == {"to": "boss@globex.test"}


def test_a_new_owner_account_is_created_without_a_password() -> None:
    admin = superuser_in_admin()
    r = _post(admin, owner_email="new.owner@globex.test")
    assert r.status_code == 302
    owner = get_user_model().objects.get(email="new.owner@globex.test")
    assert not owner.has_usable_password()
    assert TenantMembership.objects.get(tenant__name="Globex").user == owner


def test_a_bad_setting_keeps_the_form_and_creates_nothing() -> None:
    admin = superuser_in_admin()
    r = _post(admin, owner_email="boss@globex.test", max_key_lifetime_days="0")
    assert r.status_code == 200
    assert "max_key_lifetime_days" in r.context["adminform"].form.errors
    assert r.context["adminform"].form["owner_email"].value() == "boss@globex.test"
    assert not Tenant.objects.filter(name="Globex").exists()
    assert not get_user_model().objects.filter(email="boss@globex.test").exists()


def test_the_change_form_does_not_ask_for_an_owner() -> None:
    admin = superuser_in_admin()
    _post(admin, owner_email="boss@globex.test")
    tenant = Tenant.objects.get(name="Globex")
    page = admin.get(f"/admin/orgs/tenant/{tenant.pk}/change/")
    assert 'name="owner_email"' not in page.content.decode()
