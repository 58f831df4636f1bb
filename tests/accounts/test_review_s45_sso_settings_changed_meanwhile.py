"""Review s45 (SPEC §8, §1, §9): two owners on the SSO settings page at once. The first opens it
while people signing in through the identity provider join as admins; meanwhile the second owner
narrows that to viewers. The first, asked to tone it down to members, picks "Member" and saves:
the page said "saved", and the viewers policy the other owner had just set was silently loosened
(every new SSO user could write business data and create keys). As on the tenant settings page, a
setting changed on the page that someone else changed since the page was opened is refused with an
error naming its current value; saving again, having seen it, replaces it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from audit.models import AuditEvent
from orgs import services as org_services
from tests.factories import make_tenant, require_sso
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def _page_then_narrowed(new_role: str) -> tuple[Any, Any, Client, str, dict[str, str]]:
    tenant, owner, (org, other_org) = make_tenant(name="Acme", orgs=2)
    co_owner = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    config = require_sso(tenant, "acme.example")
    TenantSSOConfig.objects.filter(pk=config.pk).update(default_role="admin", default_organization=org)
    tab = Client()
    tab.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    form = _Form(tab.get(url).content.decode(), "")
    assert form.data["default_role"] == "admin"
    sso.sso_config_save(tenant=tenant, actor=co_owner, values={"default_role": new_role})
    return tenant, owner, tab, url, form.data


def test_a_default_role_narrowed_meanwhile_is_not_loosened_unseen() -> None:
    tenant, owner, tab, url, data = _page_then_narrowed("viewer")

    answer = tab.post(url, {**data, "default_role": "member", "client_id": "tater-web"})

    assert answer.status_code == 400
    body = answer.content.decode()
    assert "changed by someone else since this page was opened: it is now viewer" in body.lower()
    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert (config.default_role, config.client_id) == ("viewer", "tater")  # nothing half-saved
    assert not AuditEvent.objects.filter(tenant=tenant, action="tenant.updated", actor_user=owner).exists()

    # Having seen the current value, the owner saves again: now it is their decision.
    again = _Form(body, "")
    assert tab.post(url, {**again.data, "default_role": "member"}).status_code == 302
    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert (config.default_role, config.client_id) == ("member", "tater-web")


def test_the_same_change_made_meanwhile_is_no_conflict() -> None:
    tenant, _, tab, url, data = _page_then_narrowed("member")
    assert tab.post(url, {**data, "default_role": "member", "client_id": "tater-web"}).status_code == 302
    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert (config.default_role, config.client_id) == ("member", "tater-web")
