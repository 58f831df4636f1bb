"""Review s45 (SPEC §1, §7, §9): two org admins on the organization settings page. The first
opened it while the org was "Finance"; meanwhile the second renamed it "Finance EU".

- The first saved the page without touching the name (a second click, a reload's re-post), just
  as the other rename landed: the page said "Nothing changed", yet the org was silently called
  "Finance" again and the log showed them replacing a name they never saw.
- The first typed a new name: it replaced "Finance EU" unseen.

A save now changes the name only when it was changed on the page, and a name someone else changed
since the page was opened is refused with an error naming it (saving again replaces it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from audit.models import AuditEvent
from orgs import services as org_services
from orgs import settings_views
from orgs.forms import OrgRenameForm
from orgs.models import Organization
from tests.factories import add_member, make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db
PAGE = "/settings/org/"


def _two_admins() -> tuple[Organization, Any, Client, dict[str, str], str]:
    _, _, (org,) = make_tenant(name="Acme")
    org_services.org_rename(organization=org, name="Finance")
    first, second = add_member(org, "admin"), add_member(org, "admin")
    tab = Client()
    tab.force_login(first)
    form = _Form(tab.get(PAGE).content.decode(), PAGE)
    assert form.data["name"] == "Finance"
    return org, second, tab, form.data, form.action


def _renamed_while_posting(monkeypatch: pytest.MonkeyPatch, org: Organization, other: Any) -> None:
    """The other admin's rename lands once this request has read the organization."""

    class RenamedMeanwhile(OrgRenameForm):
        def full_clean(self) -> None:
            fresh = Organization.objects.get(pk=org.pk)
            org_services.org_rename(organization=fresh, name="Finance EU", actor=other, enforce_permissions=True)
            super().full_clean()

    monkeypatch.setattr(settings_views, "OrgRenameForm", RenamedMeanwhile)


def _user_renames(org: Organization, other: Any) -> list[Any]:
    entries = AuditEvent.objects.filter(organization=org, action="organization.updated").exclude(actor_user=other)
    return [e.changes["name"] for e in entries.exclude(actor_user=None)]


def test_an_unchanged_name_on_a_stale_page_puts_nothing_back(monkeypatch: pytest.MonkeyPatch) -> None:
    org, other, tab, data, action = _two_admins()
    _renamed_while_posting(monkeypatch, org, other)

    answer = tab.post(action, data)

    assert answer.status_code == 302
    said = [str(m) for m in get_messages(answer.wsgi_request)]
    assert Organization.objects.get(pk=org.pk).name == "Finance EU"
    assert said == ["Nothing changed."]
    assert _user_renames(org, other) == []


def test_a_rename_as_the_other_lands_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    org, other, tab, data, action = _two_admins()
    _renamed_while_posting(monkeypatch, org, other)

    answer = tab.post(action, {**data, "name": "Operations"})

    assert answer.status_code == 400
    assert "it is now Finance EU" in answer.content.decode()
    assert Organization.objects.get(pk=org.pk).name == "Finance EU"


def test_a_rename_on_a_stale_page_is_refused_then_saved_once_seen() -> None:
    org, other, tab, data, action = _two_admins()
    org_services.org_rename(organization=org, name="Finance EU", actor=other, enforce_permissions=True)

    answer = tab.post(action, {**data, "name": "Operations"})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "changed by someone else since this page was opened: it is now finance eu" in body.lower()
    assert Organization.objects.get(pk=org.pk).name == "Finance EU"

    again = _Form(body, PAGE)
    assert tab.post(again.action, {**again.data, "name": "Operations"}).status_code == 302
    assert Organization.objects.get(pk=org.pk).name == "Operations"
    assert _user_renames(org, other) == [{"from": "Finance EU", "to": "Operations"}]
