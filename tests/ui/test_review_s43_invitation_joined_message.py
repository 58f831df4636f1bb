"""Review s43: accepting an invitation led to the new organization's dashboard without a word.
A person whose own tenant's first organization bears the same name ("Default") could not tell
that anything had happened. Like GitHub's "You are now a member of …", the dashboard now says
which organization they joined, in which tenant, and as what (SPEC §9)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import members as member_services
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def test_accepting_says_what_was_joined() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    links: list[str] = []
    member_services.member_add_by_email(
        organization=org, email="new@acme.test", role="viewer", actor=owner, accept_url=lambda t: links.append(t) or t
    )
    browser = Client()
    browser.force_login(UserFactory(email="new@acme.test"))
    done: Any = browser.post(f"/invitations/{links[0]}/", follow=True)
    assert done.status_code == 200
    assert done.redirect_chain[-1][0] == "/"
    said = [str(m) for m in done.context["messages"]]
    assert said == [f"You are a member of {org.name} ({tenant.name}) as Viewer."], said
