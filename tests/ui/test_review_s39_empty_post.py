"""Review s39: the pages built as ``Form(request.POST or None)`` took a POST that carried no
field at all (a form sent with its CSRF token in the header, every field dropped on the way)
for a GET: the page came back as if just opened, 200, no error, nothing said. Each form now
binds on the method, so such a POST shows the form's errors on the fields it names (and the
error status where the page answers one) and changes nothing. The account pages (SSO start, 2FA): tests/accounts/test_review_s39_empty_post.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import TenantSSOConfig
from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import Invitation, Organization
from scim.models import ScimToken
from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db

REQUIRED = "This field is required."


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _errors_shown(response: Any, *, status: int = 400) -> str:
    html = response.content.decode()
    assert response.status_code == status, html[:800]
    assert REQUIRED in html, html[:3000]
    return html


@pytest.mark.parametrize("path", ["/settings/tenant/", "/settings/org/", "/orgs/new/", "/members/", "/keys/new/"])
def test_org_and_key_pages_show_errors_for_an_empty_post(path: str) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    browser = _browser(owner)  # signing in is audited
    entries = AuditEvent.objects.count()
    _errors_shown(browser.post(path))
    assert AuditEvent.objects.count() == entries
    assert Organization.objects.filter(tenant=tenant).count() == 1
    assert not Invitation.objects.exists() and not ApiKey.objects.exists()


def test_key_edit_shows_errors_for_an_empty_post() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    api_key, _ = make_key(user=owner, tenant=tenant, org=org, name="ci")
    browser = _browser(owner)
    entries = AuditEvent.objects.count()
    _errors_shown(browser.post(f"/keys/{api_key.public_id}/edit/"))
    api_key.refresh_from_db()
    assert api_key.name == "ci" and AuditEvent.objects.count() == entries


def test_scim_token_form_shows_errors_for_an_empty_post() -> None:
    _, owner, _ = make_tenant(name="Acme")
    _errors_shown(_browser(owner).post("/settings/tenant/scim/"))
    assert not ScimToken.objects.exists()


def test_sso_settings_show_errors_for_an_empty_post() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    browser = _browser(owner)
    entries = AuditEvent.objects.count()
    _errors_shown(browser.post("/accounts/sso/"))
    assert AuditEvent.objects.count() == entries
    assert not TenantSSOConfig.objects.filter(tenant=tenant).exists()
