"""SPEC §10 (operators) and §1 (a tenant keeps its last owner). An operator selects several
accounts in the admin and deletes them at once. When one of them cannot go (it is a tenant's
last owner), Django's page must say so, and none of the selected accounts is deleted: the
operator chose them together and sees one answer for all of them, not half a deletion."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import TenantMembership
from tests.factories import UserFactory, add_member, make_tenant, operator_client

pytestmark = pytest.mark.django_db
USERS = "/admin/accounts/user/"


def test_a_bulk_delete_that_meets_a_last_owner_deletes_nobody_and_says_why(settings) -> None:
    client = operator_client(settings)
    tenant, owner, (org,) = make_tenant()
    member = add_member(org, "member")
    User = type(owner)
    before = AuditEvent.objects.count()

    # The member first, then the last owner (a stable order: by primary key).
    selected = sorted([member.pk, owner.pk])
    confirm = client.post(USERS, {"action": "delete_selected", "_selected_action": selected})
    client.post(USERS, {"action": "delete_selected", "_selected_action": selected, "post": "yes"})

    assert User.objects.filter(pk=member.pk).exists(), "half a deletion: the member went, the owner stayed"
    assert User.objects.filter(pk=owner.pk).exists()
    assert AuditEvent.objects.count() == before, "nothing was deleted, so nothing is recorded"
    text = confirm.content.decode()
    assert "permission to delete" not in text
    assert f"{owner.email} is the last owner of {tenant.name}" in text
    assert "Yes, I’m sure" not in text  # nothing to confirm


def test_deleting_every_owner_of_a_tenant_at_once_deletes_nobody_and_says_why(settings) -> None:
    """Each of two co-owners may go alone (the other stays owner); together they may not."""
    client = operator_client(settings)
    tenant, owner, (org,) = make_tenant()
    co_owner = UserFactory()
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    User = type(owner)
    before = AuditEvent.objects.count()

    selected = sorted([owner.pk, co_owner.pk])
    confirm = client.post(USERS, {"action": "delete_selected", "_selected_action": selected})
    done = client.post(USERS, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}, follow=True)

    assert User.objects.filter(pk__in=selected).count() == 2, "half a deletion: one owner went"
    assert AuditEvent.objects.count() == before
    assert done.status_code == 200, "the operator gets a page, not a server error"
    text = confirm.content.decode() + done.content.decode()
    assert "are the last owners of " + tenant.name in text
    assert "Yes, I’m sure" not in confirm.content.decode()


def test_a_bulk_delete_of_accounts_that_may_go_deletes_them_all(settings) -> None:
    client = operator_client(settings)
    _, _, (org,) = make_tenant()
    people = [add_member(org, "member"), add_member(org, "viewer")]

    page = client.post(
        USERS, {"action": "delete_selected", "_selected_action": [p.pk for p in people], "post": "yes"}, follow=True
    )

    assert page.status_code == 200
    assert not type(people[0]).objects.filter(pk__in=[p.pk for p in people]).exists()


def test_ending_every_owner_role_of_a_tenant_at_once_ends_none_and_says_why(settings) -> None:
    """The same selection on the tenant memberships page: each owner role might end alone."""
    client = operator_client(settings)
    tenant, owner, _ = make_tenant()
    co_owner = UserFactory()
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    roles = TenantMembership.objects.filter(tenant=tenant)
    selected = list(roles.values_list("pk", flat=True))

    url = "/admin/orgs/tenantmembership/"
    confirm = client.post(url, {"action": "delete_selected", "_selected_action": selected})
    done = client.post(url, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}, follow=True)

    assert done.status_code == 200, "the operator gets a page, not a server error"
    assert roles.count() == 2
    text = confirm.content.decode()
    assert "permission to delete" not in text
    emails = ", ".join(sorted([owner.email, co_owner.email]))
    assert f"{emails} are the last owners of {tenant.name}" in text
