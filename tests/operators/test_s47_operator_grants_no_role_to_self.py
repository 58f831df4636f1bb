"""SPEC §10 (operators in the admin) and §2a/§1 (who may act on what; nobody grants above their
own role): a staff operator who is not a superuser, allowed to add and change tenant
memberships (support work), could make their own account the owner of any tenant, and so
reach its data, unbound keys and audit log through the UI and the API. Who holds which powers
is a superuser's decision (as the user page already keeps is_staff/is_superuser to them): a
staff operator gives roles to others, never to their own account; a superuser may."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from orgs.models import OrgMembership, TenantMembership
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db

PERMS = ("add_tenantmembership", "change_tenantmembership", "add_orgmembership", "change_orgmembership")


def staff_operator(settings: Any) -> tuple[Client, Any]:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the admin's 2FA gate has its own tests
    operator = UserFactory(is_staff=True, is_superuser=False)
    operator.user_permissions.add(*Permission.objects.filter(codename__in=PERMS))
    client = Client()
    client.force_login(operator)
    return client, operator


def test_a_staff_operator_cannot_make_themselves_tenant_owner(settings: Any) -> None:
    client, operator = staff_operator(settings)
    tenant, _, _ = make_tenant(name="Somebody else's")
    r = client.post("/admin/orgs/tenantmembership/add/", {"tenant": tenant.pk, "user": operator.pk, "role": "owner"})
    assert r.status_code == 200, r.status_code  # the form again, with the refusal
    assert "superuser" in r.content.decode()
    assert not TenantMembership.objects.filter(tenant=tenant, user=operator).exists()


def test_a_staff_operator_cannot_give_themselves_an_org_role(settings: Any) -> None:
    client, operator = staff_operator(settings)
    _, _, (org,) = make_tenant(name="Another one")
    r = client.post("/admin/orgs/orgmembership/add/", {"organization": org.pk, "user": operator.pk, "role": "admin"})
    assert r.status_code == 200 and "superuser" in r.content.decode()
    assert not OrgMembership.objects.filter(organization=org, user=operator).exists()


def test_a_staff_operator_still_gives_roles_to_others(settings: Any) -> None:
    client, _ = staff_operator(settings)
    tenant, _, _ = make_tenant(name="Supported")
    someone = UserFactory()
    r = client.post("/admin/orgs/tenantmembership/add/", {"tenant": tenant.pk, "user": someone.pk, "role": "admin"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert TenantMembership.objects.get(tenant=tenant, user=someone).role == "admin"


def test_a_superuser_may_give_themselves_a_role(settings: Any) -> None:
    settings.TATER_ADMIN_REQUIRES_OTP = False
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    tenant, _, _ = make_tenant(name="Their own")
    r = client.post("/admin/orgs/tenantmembership/add/", {"tenant": tenant.pk, "user": superuser.pk, "role": "admin"})
    assert r.status_code == 302
    assert TenantMembership.objects.filter(tenant=tenant, user=superuser).exists()


def test_a_staff_operator_cannot_raise_their_own_role(settings: Any) -> None:
    client, operator = staff_operator(settings)
    tenant, _, _ = make_tenant(name="Where they are admin")
    membership = TenantMembership.objects.create(tenant=tenant, user=operator, role="admin")
    url = f"/admin/orgs/tenantmembership/{membership.pk}/change/"
    r = client.post(url, {"role": "owner", "shown-role": "admin"})
    assert r.status_code == 403, r.status_code
    assert TenantMembership.objects.get(pk=membership.pk).role == "admin"
