"""Review s45 (SPEC §13, §1, §9): two owners on the SCIM settings page. The first opened it while
the directory group "Engineering" made its members admins of Finance; meanwhile the second owner
narrowed that to viewers. The first, asked to move the group to Operations, picks the org and saves
the row as it showed it: the group's members became admins again (of Operations), the viewers
mapping silently loosened. The mapping form now posts what the page showed: a save changes only
what was changed there, and a role or org someone else changed meanwhile is refused (the page,
reloaded, shows the current mapping; saving again replaces it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from orgs import services as org_services
from scim.models import ScimGroup
from scim.services import groups as group_services
from tests.factories import make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db
PAGE = "/settings/tenant/scim/"


def _stale_row() -> tuple[ScimGroup, Any, Client, _Form]:
    tenant, owner, (finance, operations) = make_tenant(name="Acme", orgs=2)
    co_owner = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    group = ScimGroup.objects.create(tenant=tenant, display_name="Engineering", display_name_key="engineering")
    group_services.scim_group_map(group=group, organization=finance, role="admin", actor=owner)
    tab = Client()
    tab.force_login(owner)
    form = _Form(tab.get(PAGE).content.decode(), f"/settings/tenant/scim/groups/{group.public_id}/map/")
    assert form.data[f"{group.public_id}-role"] == "admin"
    group_services.scim_group_map(group=group, organization=finance, role="viewer", actor=co_owner)
    return group, operations, tab, form


def test_moving_a_group_on_a_stale_page_keeps_the_role_narrowed_meanwhile() -> None:
    group, operations, tab, form = _stale_row()

    assert (
        tab.post(form.action, {**form.data, f"{group.public_id}-organization": operations.public_id}).status_code == 302
    )

    group = ScimGroup.objects.get(pk=group.pk)
    assert (group.organization, group.role) == (operations, "viewer")


def test_a_role_changed_meanwhile_is_refused_then_replaced_once_seen() -> None:
    group, _, tab, form = _stale_row()

    answer = tab.post(form.action, {**form.data, f"{group.public_id}-role": "member"})
    assert answer.status_code == 302
    said = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    assert "changed by someone else since this page was opened: it is now viewer" in said.lower()
    assert ScimGroup.objects.get(pk=group.pk).role == "viewer"

    again = _Form(tab.get(PAGE).content.decode(), form.action.split("?")[0])
    assert again.data[f"{group.public_id}-role"] == "viewer"
    assert tab.post(again.action, {**again.data, f"{group.public_id}-role": "member"}).status_code == 302
    assert ScimGroup.objects.get(pk=group.pk).role == "member"
