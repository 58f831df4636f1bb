"""SPEC §9 (UI) and §4 ("Session users pick the org the same way (the UI's org switcher sets
it)"): an owner of one tenant who also works in another tenant's org, that org chosen in the
switcher, opened Tenant settings, SCIM provisioning (the links of the docs, a bookmark) or New
organization and got a bare 403 "This page is for tenant administrators", nothing saying
whose page it was nor that the same page of their own tenant was one link away. The page now
names the tenant it is for, says the role it needs there, and links to the same page in each
tenant where the user holds that role; a tenant where they hold no such role is never named,
and someone who holds the role nowhere else still gets the plain 403."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from orgs import services as org_services
from scim.services import tokens as token_services
from tests.factories import add_member, make_tenant

pytestmark = pytest.mark.django_db
TENANT_SETTINGS = "/settings/tenant/"
SCIM = "/settings/tenant/scim/"
ORG_CREATE = "/orgs/new/"


def _working_in_globex(world: dict[str, Any], user: Any) -> Client:
    add_member(world["other_org"], "member", user=user)
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session["current_org_id"] = world["other_org"].public_id
    session.save()
    return browser


def _main(page: Any) -> str:
    """The page's own content (the shell around it names the current org and its tenant)."""
    return page.content.decode().split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _links(page: Any, prefix: str) -> list[str]:
    hrefs = re.findall(r'href="([^"]+)"', page.content.decode())
    return [link for link in map(html.unescape, hrefs) if link.startswith(f"{prefix}?")]


@pytest.mark.parametrize(
    ("path", "shown"),
    [(TENANT_SETTINGS, "Plan and security policies"), (SCIM, "SCIM base URL")],
)
def test_an_owner_working_in_another_tenant_is_sent_to_their_own(world, path, shown):
    browser = _working_in_globex(world, world["owner"])
    page = browser.get(path)
    assert page.status_code == 403
    text = _main(page)
    assert "Globex" in text, text  # whose page it is
    assert "owner" in text.lower()  # the role it needs there
    assert shown not in text  # nothing of Globex's settings
    targets = _links(page, path)
    assert len(targets) == 1, text
    opened = browser.get(targets[0])
    assert opened.status_code == 200
    assert shown in opened.content.decode() and "Acme" in opened.content.decode()
    # Following the link did not leave the org the session had chosen behind for good.
    assert browser.get(path).status_code == 403


def test_a_scim_token_page_links_to_that_token_in_its_tenant(world):
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Acme IdP", actor=world["owner"])
    revoke = f"{SCIM}tokens/{issued.token.public_id}/revoke/"
    browser = _working_in_globex(world, world["owner"])
    page = browser.get(revoke)
    assert page.status_code == 403
    targets = _links(page, revoke)
    assert len(targets) == 1, page.content.decode()
    assert "Acme IdP" in browser.get(targets[0]).content.decode()


def test_a_tenant_admin_is_offered_new_organization_in_their_tenant(world):
    admin = add_member(world["org1"], "member")
    org_services.tenant_member_set(tenant=world["tenant"], user=admin, role="admin")
    browser = _working_in_globex(world, admin)
    page = browser.get(ORG_CREATE)
    assert page.status_code == 403
    assert "Globex" in _main(page)
    targets = _links(page, ORG_CREATE)
    assert len(targets) == 1
    assert browser.get(targets[0]).status_code == 200
    # Tenant settings need an owner: an admin is offered nothing there.
    settings_page = browser.get(TENANT_SETTINGS)
    assert settings_page.status_code == 403 and not _links(settings_page, TENANT_SETTINGS)


def test_a_tenant_where_they_hold_no_such_role_is_never_named(world):
    initech, _, _ = make_tenant(name="Initech", orgs=0)
    skunkworks = org_services.org_create(tenant=initech, name="Skunkworks")
    add_member(skunkworks, "admin", user=world["owner"])
    browser = _working_in_globex(world, world["owner"])
    for path in (TENANT_SETTINGS, SCIM):
        page = browser.get(path)
        assert page.status_code == 403
        assert "Initech" not in _main(page)  # an org admin there, no tenant owner
        assert len(_links(page, path)) == 1  # Acme's only


def test_someone_with_no_such_role_anywhere_gets_the_plain_refusal(world):
    browser = _working_in_globex(world, world["member"])
    for path in (TENANT_SETTINGS, SCIM, ORG_CREATE):
        page = browser.get(path)
        assert page.status_code == 403
        assert not _links(page, path)
        assert "This page is for tenant administrators" in _main(page)
    # In their own tenant too: a viewer of Acme is not offered another tenant's pages.
    own = Client()
    own.force_login(world["viewer"])
    page = own.get(TENANT_SETTINGS)
    assert page.status_code == 403 and not _links(page, TENANT_SETTINGS)
    assert "Globex" not in page.content.decode()  # not in the shell either: no role there
