"""SPEC §10 (operators change organizations in the admin) and §3's rule that bad input is
never a 500. Found by review A (s41): an organization's tenant is fixed on its change page, so
Django's form left the (tenant, slug) uniqueness unchecked, and a slug a sibling org already
had went to the database: an IntegrityError, a 500 page. It is now an error beside the slug
field, and nothing changes."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from orgs.models import Organization
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db


def test_a_slug_a_sibling_org_has_is_a_form_error_not_a_500() -> None:
    tenant, _, (first, second) = make_tenant(orgs=2)
    admin = superuser_in_admin()
    url = f"/admin/orgs/organization/{second.pk}/change/"
    data = admin_form_data(admin, url)
    data["slug"] = first.slug

    r = admin.post(url, data)

    assert r.status_code == 200
    assert "slug" in r.context["adminform"].form.errors
    second.refresh_from_db()
    assert second.slug != first.slug
    assert not AuditEvent.objects.filter(action="organization.updated").exists()


def test_guard_the_same_slug_in_another_tenant_is_fine() -> None:
    _, _, (mine,) = make_tenant(name="Mine")
    _, _, (theirs,) = make_tenant(name="Theirs")
    admin = superuser_in_admin()
    url = f"/admin/orgs/organization/{mine.pk}/change/"
    data = admin_form_data(admin, url)
    data["slug"] = theirs.slug
    assert admin.post(url, data).status_code == 302
    assert Organization.objects.get(pk=mine.pk).slug == theirs.slug
