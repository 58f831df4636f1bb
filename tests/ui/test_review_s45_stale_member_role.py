"""Review s45 (SPEC §1, §9): two org admins on the Members page. The first opened it while Bob was
an admin; meanwhile the second demoted Bob to viewer. The first pressed "Change" on Bob's row
without touching the select (it still showed Admin): the page answered with a redirect, and Bob
was silently an admin again. The row now posts the role the page showed: left unchanged it changes
nothing, and a role typed over one someone else changed meanwhile is refused naming it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import services as org_services
from orgs.models import OrgMembership
from tests.factories import add_member, make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def _stale_row() -> tuple[Any, Any, Client, _Form]:
    _, owner, (org,) = make_tenant(name="Acme")
    admin, bob = add_member(org, "admin"), add_member(org, "admin")
    tab = Client()
    tab.force_login(admin)
    form = _Form(tab.get("/members/").content.decode(), f"/members/{bob.pk}/role/")
    assert form.data[f"m{bob.pk}-role"] == "admin"
    org_services.org_member_set(organization=org, user=bob, role="viewer", actor=owner)
    return org, bob, tab, form


def test_an_unchanged_row_on_a_stale_page_does_not_promote_back() -> None:
    org, bob, tab, form = _stale_row()
    tab.post(form.action, form.data)
    assert OrgMembership.objects.get(organization=org, user=bob).role == "viewer"


def test_a_role_changed_meanwhile_is_refused_naming_it() -> None:
    org, bob, tab, form = _stale_row()
    answer = tab.post(form.action, {**form.data, f"m{bob.pk}-role": "member"})
    assert answer.status_code == 400
    assert "it is now viewer" in answer.content.decode().lower()
    assert OrgMembership.objects.get(organization=org, user=bob).role == "viewer"
