"""README decision (review s47; SPEC §10 operators, §1 owners): a staff operator who is not a
superuser gives tenant roles to others, never to their own account: who holds which powers is
a superuser's decision. The membership pages kept to it, but the tenant add page made the
account named as "Owner's email" the new tenant's owner, the operator's own address included:
an operator could still make themselves a tenant owner (its unbound keys, plan, policies,
SCIM tokens). A superuser may, and a staff operator still adds tenants for others."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from orgs.models import Tenant, TenantMembership
from tests.factories import UserFactory
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db

ADD = "/admin/orgs/tenant/add/"


def _operator(settings: Any, *, superuser: bool) -> tuple[Client, Any]:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the admin's 2FA gate has its own tests
    operator = UserFactory(is_staff=True, is_superuser=superuser)
    operator.user_permissions.add(*Permission.objects.filter(codename__in=("add_tenant", "view_tenant")))
    client = Client()
    client.force_login(operator)
    return client, operator


def _add(client: Client, owner_email: str) -> Any:
    data = admin_form_data(client, ADD)  # the inline's management form, as the browser sends it
    data.update(name="Globex", plan="free", key_creation_policy="members", owner_email=owner_email)
    return client.post(ADD, data)


def test_a_staff_operator_cannot_make_themselves_owner_of_a_new_tenant(settings: Any) -> None:
    client, operator = _operator(settings, superuser=False)
    r = _add(client, operator.email.upper())
    assert r.status_code == 200, r.status_code  # the form again, with the refusal
    assert "superuser" in r.content.decode()
    assert not Tenant.objects.filter(name="Globex").exists()
    assert not TenantMembership.objects.filter(user=operator).exists()


def test_a_staff_operator_still_adds_a_tenant_for_someone_else(settings: Any) -> None:
    client, _ = _operator(settings, superuser=False)
    someone = UserFactory()
    r = _add(client, someone.email)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert TenantMembership.objects.get(tenant__name="Globex").user == someone


def test_a_superuser_may_own_the_tenant_they_add(settings: Any) -> None:
    client, superuser = _operator(settings, superuser=True)
    r = _add(client, superuser.email)
    assert r.status_code == 302
    assert TenantMembership.objects.get(tenant__name="Globex", user=superuser).role == "owner"
