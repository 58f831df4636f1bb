"""Review s43: someone in two tenants whose organizations bear the same name (every new
account's first one is "Default"; an invitation joins them to another tenant's) saw
"Organization Default" in the header on either, and the dashboard's heading "Default": only
opening the switcher told them which tenant's they were looking at. When the person reaches
organizations in several tenants, the switcher's button now names the current one's tenant
too (SPEC §1: a user can belong to several tenants; §9 org switcher). With one tenant it stays
as it was."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from orgs import services as org_services
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


def _button(html: str) -> str:
    summary = re.search(r'<details class="org-menu">\s*<summary>(.*?)</summary>', html, re.S)
    assert summary, html[:2000]
    return re.sub(r"<[^>]+>", "", summary.group(1))


def test_the_switcher_names_the_tenant_when_there_are_several() -> None:
    person = UserFactory()
    own = org_services.tenant_create(name="Pat's team", owner=person, plan="free")
    org_services.org_create(tenant=own, name="Default")
    other = org_services.tenant_create(name="Globex", owner=UserFactory(), plan="free")
    theirs = org_services.org_create(tenant=other, name="Default")
    add_member(theirs, "member", user=person)
    client = Client()
    client.force_login(person)

    page = client.get(f"/?organizationId={theirs.public_id}").content.decode()
    assert "Globex" in _button(page), _button(page)
    assert "Pat's team" not in _button(page).replace("&#x27;", "'")


def test_one_tenant_only_names_the_organization() -> None:
    person = UserFactory()
    tenant = org_services.tenant_create(name="Acme", owner=person, plan="free")
    org_services.org_create(tenant=tenant, name="Default")
    org_services.org_create(tenant=tenant, name="Second")
    client = Client()
    client.force_login(person)
    assert "Acme" not in _button(client.get("/").content.decode())
