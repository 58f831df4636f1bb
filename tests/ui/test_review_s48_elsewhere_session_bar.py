"""SPEC §4 and §8 (a tenant that requires SSO is reached only by a session signed in through
its own identity provider): the helpful 403 of tenant pages (docs/ui.md) links to the same
page in each tenant where the user holds the role. A tenant this session may not reach,
its owner having signed in with a password while the tenant requires SSO of their address,
is neither named nor linked: the link would only lead to the SSO refusal, and the page
would tell a password session which tenants the account owns behind SSO."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory, add_member, make_tenant, require_sso

pytestmark = pytest.mark.django_db
PAGES = ("/settings/tenant/", "/settings/tenant/scim/", "/settings/tenant/outbox/")


def _password_session_in(org: Any, user: Any) -> Client:
    browser = Client()
    browser.force_login(user)  # a password sign-in: no identity provider's
    session = browser.session
    session["current_org_id"] = org.public_id
    session.save()
    return browser


@pytest.mark.parametrize("path", PAGES)
def test_a_tenant_behind_sso_is_not_offered_to_a_password_session(path: str) -> None:
    owner = UserFactory(email="ceo@hooli.test")
    behind_sso, _, _ = make_tenant(name="Hooli Secret Lab", owner=owner)
    open_tenant, _, _ = make_tenant(name="Open Beach")
    _, _, (elsewhere,) = make_tenant(name="Pied Piper")
    add_member(elsewhere, "member", user=owner)
    # Without the bar the page offers the tenant (what this test tells apart from a plain 403).
    offered = _password_session_in(elsewhere, owner).get(path)
    assert offered.status_code == 403 and "Hooli Secret Lab" in offered.content.decode()

    require_sso(behind_sso, "hooli.test")
    page = _password_session_in(elsewhere, owner).get(path)
    assert page.status_code == 403
    text = page.content.decode()
    assert "Hooli Secret Lab" not in text
    assert f"organizationId={behind_sso.organizations.first().public_id}" not in text
    assert open_tenant.name not in text  # never a tenant the user holds no role in
