"""SPEC §12 (operations at scale) and §10 (staff who are not superusers see what their Django
permissions allow). Found by review A (s41): a staff operator who may view users or groups but
not change their permissions (only superusers do) sees the permissions as read-only text, and
Django wrote each one ("app | model | Can view …") after a query of its own for its content
type: a group holding all ~160 permissions cost ~160 queries to look at. The user and group
pages now cost the same queries for 3 permissions or 9, for superusers and view-only staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return len(captured)


def view_only_staff(settings) -> Client:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the 2FA gate has its own tests
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_group", "view_user"]))
    client = Client()
    client.force_login(staff)
    return client


def holding(n: int) -> tuple[Group, object]:
    permissions = Permission.objects.order_by("content_type__app_label", "codename")[:n]
    group = Group.objects.create(name=f"{n} powers")
    group.permissions.set(permissions)
    person = UserFactory()
    person.user_permissions.set(permissions)
    person.groups.add(group)
    return group, person


@pytest.mark.parametrize("who", ["view-only staff", "superuser"])
def test_user_and_group_pages_cost_the_same_for_3_or_9_permissions(settings, who: str) -> None:
    client = view_only_staff(settings) if who == "view-only staff" else superuser_in_admin()
    few_group, few_person = holding(3)
    many_group, many_person = holding(9)
    for page in ("/admin/auth/group/{}/change/", "/admin/accounts/user/{}/change/"):
        few = queries(client, page.format(few_group.pk if "group" in page else few_person.pk))
        many = queries(client, page.format(many_group.pk if "group" in page else many_person.pk))
        assert many == few, (page, few, many)


def test_guard_the_view_only_page_still_names_each_permission(settings) -> None:
    client = view_only_staff(settings)
    group, _ = holding(3)
    html = client.get(f"/admin/auth/group/{group.pk}/change/").content.decode()
    for permission in group.permissions.all():
        assert permission.name in html
