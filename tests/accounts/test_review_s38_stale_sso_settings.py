"""Review s38: the SSO settings page posts every setting it shows. A page opened before another
owner (or the same owner in another tab) turned "Require SSO" on put it back off when it was
saved for an unrelated change (a new client id), silently letting members sign in with a
password again. A save now changes only the settings changed on that page; the client secret
is still never rendered, and an empty one keeps the stored secret."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from orgs import services as org_services
from tests.factories import make_tenant, require_sso
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


def test_an_old_sso_page_saved_for_the_client_id_does_not_turn_require_sso_off() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    co_owner = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    config = require_sso(tenant, "acme.example")
    TenantSSOConfig.objects.filter(pk=config.pk).update(require_sso=False, client_secret="stored-secret")
    tab = Client()
    tab.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    page = tab.get(url).content.decode()
    assert "stored-secret" not in page
    form = _Form(page, "")
    assert "require_sso" not in form.data and form.data["client_id"] == "tater"

    # Meanwhile the other owner requires SSO for the tenant's verified domain.
    sso.sso_config_save(tenant=tenant, actor=co_owner, values={"require_sso": True})

    # The first owner, on the page opened earlier, only corrects the client id.
    answer = tab.post(url, {**form.data, "client_id": "tater-web"})
    assert answer.status_code == 302, answer.content.decode()[:3000]

    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert config.client_id == "tater-web"
    assert config.require_sso is True  # was turned back off
    assert config.client_secret == "stored-secret"
