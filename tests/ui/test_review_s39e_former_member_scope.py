"""SPEC §1 (an org admin manages their org's members; nothing of another org's membership is
theirs to read) and §9. A member form posted for someone no longer in the org names them
("… is no longer a member") when this org removed them, or when the tenant role that listed
them in every org of the tenant was removed. That tenant-wide entry also counted for an org
created *after* the removal, whose members page never listed the person: its org admin could
post user ids and read the email of a sibling org's member. Such an id is a 404 again."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import services as org_services
from orgs.models import Organization
from tests.factories import UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_org_created_after_a_tenant_role_ended_never_listed_that_person() -> None:
    tenant, owner, (first,) = make_tenant(name="Acme")
    ada = add_member(first, "member", UserFactory(email="ada@acme.test"))
    org_services.tenant_member_set(tenant=tenant, user=ada, role="admin", actor=owner)
    org_services.tenant_member_set(tenant=tenant, user=ada, role=None, actor=owner)  # still in `first`
    later = Organization.objects.create(tenant=tenant, name="Later")
    org_admin = add_member(later, "admin")
    browser = _browser(org_admin)
    for url in (f"/members/{ada.pk}/remove/", f"/members/{ada.pk}/role/"):
        answer = browser.post(url, {f"m{ada.pk}-role": "viewer"})
        assert answer.status_code == 404, (url, answer.status_code)
        assert b"ada@acme.test" not in answer.content


def test_an_org_that_existed_while_the_role_held_still_says_so() -> None:
    tenant, owner, (first, second) = make_tenant(name="Acme", orgs=2)
    ada = UserFactory(email="ada@acme.test")
    org_services.tenant_member_set(tenant=tenant, user=ada, role="admin", actor=owner)
    org_services.tenant_member_set(tenant=tenant, user=ada, role=None, actor=owner)
    org_admin = add_member(second, "admin")
    answer = _browser(org_admin).post(f"/members/{ada.pk}/remove/", follow=True)
    assert answer.status_code == 200
    assert "ada@acme.test is no longer a member" in " ".join(str(m) for m in answer.context["messages"])
