"""Review s45 (SPEC §8, §10): an operator opens a tenant's SSO configuration in the Django admin
while it does not require SSO; meanwhile the tenant's owner turns "Require SSO" on for its verified
domain. The operator, asked to correct the client id, changes only that and saves: the admin said
it was changed, and "Require SSO" was silently off again (members could sign in with a password
the owner had just barred). As on the SSO settings page, a save changes only what was changed on
the page, and a setting someone else changed meanwhile is refused naming its current value."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from tests.factories import make_tenant, require_sso
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def _stale_page() -> tuple[Any, Client, str, dict[str, str]]:
    tenant, owner, _ = make_tenant(name="Acme")
    config = require_sso(tenant, "acme.example")
    TenantSSOConfig.objects.filter(pk=config.pk).update(require_sso=False, default_role="admin")
    operator = superuser_in_admin()
    url = f"/admin/accounts/tenantssoconfig/{config.pk}/change/"
    form = _Form(operator.get(url).content.decode(), "")
    assert "require_sso" not in form.data and form.data["client_id"] == "tater"
    sso.sso_config_save(tenant=tenant, actor=owner, values={"require_sso": True, "default_role": "viewer"})
    return tenant, operator, url, form.data


def test_an_old_admin_page_saved_for_the_client_id_keeps_require_sso() -> None:
    tenant, operator, url, data = _stale_page()

    assert operator.post(url, {**data, "client_id": "tater-web"}).status_code == 302

    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert (config.client_id, config.require_sso, config.default_role) == ("tater-web", True, "viewer")


def test_a_setting_changed_meanwhile_is_refused_then_replaced_once_seen() -> None:
    tenant, operator, url, data = _stale_page()

    answer = operator.post(url, {**data, "default_role": "member"})
    assert answer.status_code == 200  # the change form again, with the error
    errors = answer.context["adminform"].form.errors
    assert "default_role" in errors and "it is now Viewer" in str(errors)
    assert TenantSSOConfig.objects.get(tenant=tenant).default_role == "viewer"

    again = _Form(answer.content.decode(), "")
    assert operator.post(url, {**again.data, "default_role": "member"}).status_code == 302
    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert (config.default_role, config.require_sso) == ("member", True)
