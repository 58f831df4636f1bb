"""Review s45 (SPEC §1, §10): an operator opens a person's organization membership in the Django
admin while they are an admin of it; meanwhile the org's admins demote them to viewer. The
operator, having looked, presses Save (or "Save and continue editing") without changing anything:
the admin said it was changed, and the person was silently an admin again, with their keys'
effective permissions widened. A save now changes the role only when it was changed on the page,
and a role someone else changed meanwhile is refused with an error naming it (saving again,
having seen it, replaces it)."""

from __future__ import annotations

import pytest
from django.test import Client

from orgs import services as org_services
from orgs.models import OrgMembership
from tests.factories import add_member, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def _stale_page() -> tuple[OrgMembership, Client, str, dict[str, str]]:
    _, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "admin")
    membership = OrgMembership.objects.get(organization=org, user=person)
    operator = superuser_in_admin()
    url = f"/admin/orgs/orgmembership/{membership.pk}/change/"
    form = _Form(operator.get(url).content.decode(), "")
    assert form.data["role"] == "admin"
    org_services.org_member_set(organization=org, user=person, role="viewer", actor=owner)
    return membership, operator, url, form.data


def test_saving_a_stale_page_unchanged_does_not_promote_back() -> None:
    membership, operator, url, data = _stale_page()
    operator.post(url, data)
    assert OrgMembership.objects.get(pk=membership.pk).role == "viewer"


def test_a_role_changed_meanwhile_is_refused_then_replaced_once_seen() -> None:
    membership, operator, url, data = _stale_page()

    answer = operator.post(url, {**data, "role": "member"})
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert "role" in errors and "it is now Viewer" in str(errors)
    assert OrgMembership.objects.get(pk=membership.pk).role == "viewer"

    again = _Form(answer.content.decode(), "")
    assert operator.post(url, {**again.data, "role": "member"}).status_code == 302
    assert OrgMembership.objects.get(pk=membership.pk).role == "member"
