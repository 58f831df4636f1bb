"""Review s45 (SPEC §1, §7, §10): an operator opens an organization's change page in the Django
admin while it is called "Acme Org 1"; meanwhile its admin renames it "Finance" on the settings
page. The operator, asked to fix its slug, changes only the slug and saves: the admin said it was
changed, and the org was silently called "Acme Org 1" again (the log showed the operator renaming
it from a name they never saw). A save now changes only what was changed on the page: the name
through the settings page's rename (``organization.updated``, name from/to, channel ``admin``),
and a name changed meanwhile is refused with an error naming it, as on the tenant page."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Organization
from tests.factories import add_member, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def _stale_page() -> tuple[Organization, Client, str, dict[str, str]]:
    _, _, (org,) = make_tenant(name="Acme")
    org_admin = add_member(org, "admin")
    operator = superuser_in_admin()
    url = f"/admin/orgs/organization/{org.pk}/change/"
    form = _Form(operator.get(url).content.decode(), "")
    assert form.data["name"] == "Acme Org 1"
    org_services.org_rename(organization=org, name="Finance", actor=org_admin, enforce_permissions=True)
    return org, operator, url, form.data


def test_a_slug_change_on_a_stale_page_keeps_the_name_given_meanwhile() -> None:
    org, operator, url, data = _stale_page()

    assert operator.post(url, {**data, "slug": "finance"}).status_code == 302

    org = Organization.objects.get(pk=org.pk)
    assert (org.name, org.slug) == ("Finance", "finance")
    operator_entries = AuditEvent.objects.filter(organization=org, action="organization.updated", channel="admin")
    assert [e.changes for e in operator_entries] == [{"slug": {"from": "acme-org-1", "to": "finance"}}]


def test_a_rename_on_a_stale_page_is_refused_then_saved_once_seen() -> None:
    org, operator, url, data = _stale_page()

    answer = operator.post(url, {**data, "name": "Operations"})
    assert answer.status_code == 200  # the change form again, with the error
    errors = answer.context["adminform"].form.errors
    assert "name" in errors and "it is now Finance" in str(errors)
    assert Organization.objects.get(pk=org.pk).name == "Finance"

    again = _Form(answer.content.decode(), "")
    assert operator.post(url, {**again.data, "name": "Operations"}).status_code == 302
    assert Organization.objects.get(pk=org.pk).name == "Operations"
    entry = AuditEvent.objects.filter(organization=org, action="organization.updated", channel="admin").get()
    assert entry.changes == {"name": {"from": "Finance", "to": "Operations"}}
    assert entry.actor_user is not None and entry.actor_user.is_superuser
