"""Review s39: "Remove member" posted twice (a double click, a reload answering "resend the
form", or a members page opened before another admin removed the person) answered the 404
page "Member not found" although the first press had worked. Now a person this org removed
goes back to the members page saying they are no longer a member, and nothing changes; a user
id that never was in this org (another tenant's person, or one of a sibling org) is still a
404, so the form cannot be used to learn who holds which database id."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import TenantMembership
from tests.factories import UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_remove_posted_twice_ends_on_the_members_page() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member", UserFactory(email="pat@acme.test"))
    browser = _browser(owner)
    url = f"/members/{person.pk}/remove/"
    assert browser.post(url).status_code == 302
    entries = AuditEvent.objects.count()

    again = browser.post(url, follow=True)
    assert again.status_code == 200, again.content.decode()[:500]
    assert again.redirect_chain[-1][0].startswith("/members/")
    assert "pat@acme.test is no longer a member" in _messages(again)
    assert AuditEvent.objects.count() == entries

    # The confirmation page of a stale members page (a GET) says so too.
    stale = browser.get(url, follow=True)
    assert stale.status_code == 200
    assert "pat@acme.test is no longer a member" in _messages(stale)


def test_a_tenant_admin_removed_twice_says_so() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    admin = UserFactory(email="ada@acme.test")
    org_services.tenant_member_set(tenant=tenant, user=admin, role="admin", actor=owner)
    browser = _browser(owner)
    url = f"/members/{admin.pk}/remove/"
    assert browser.post(url).status_code == 302
    again = browser.post(url, follow=True)
    assert again.status_code == 200
    assert "ada@acme.test is no longer a member" in _messages(again)


def test_someone_never_in_this_org_is_still_not_found() -> None:
    _, owner, (org, sibling) = make_tenant(name="Acme", orgs=2)
    elsewhere = add_member(sibling, "member")
    sibling_removed = add_member(sibling, "member")
    org_services.org_member_set(organization=sibling, user=sibling_removed, role=None, actor=owner)
    foreign_tenant, foreign_owner, (foreign_org,) = make_tenant(name="Globex")
    foreign_removed = add_member(foreign_org, "member")
    org_services.org_member_set(organization=foreign_org, user=foreign_removed, role=None, actor=foreign_owner)
    stranger = UserFactory()
    org_admin = add_member(org, "admin")
    browser = _browser(org_admin)
    for person in (elsewhere, sibling_removed, foreign_removed, stranger, foreign_owner):
        assert browser.post(f"/members/{person.pk}/remove/").status_code == 404, person.email
        assert browser.get(f"/members/{person.pk}/remove/").status_code == 404, person.email
    assert browser.post("/members/999999/remove/").status_code == 404


def test_a_viewer_still_gets_403_for_a_removed_person() -> None:
    _, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member")
    org_services.org_member_set(organization=org, user=person, role=None, actor=owner)
    viewer = add_member(org, "viewer")
    assert _browser(viewer).post(f"/members/{person.pk}/remove/").status_code == 403


def test_a_role_change_from_a_stale_members_page_says_so() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member", UserFactory(email="pat@acme.test"))
    org_services.org_member_set(organization=org, user=person, role=None, actor=owner)
    browser = _browser(owner)
    entries = AuditEvent.objects.count()
    for url, data in (
        (f"/members/{person.pk}/role/", {f"m{person.pk}-role": "viewer"}),
        (f"/members/{person.pk}/tenant-role/", {f"t{person.pk}-tenant_role": "admin"}),
    ):
        answer = browser.post(url, data, follow=True)
        assert answer.status_code == 200, url
        assert "pat@acme.test is no longer a member" in _messages(answer)
    assert AuditEvent.objects.count() == entries
    assert not TenantMembership.objects.filter(tenant=tenant, user=person).exists()
