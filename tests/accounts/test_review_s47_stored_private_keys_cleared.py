"""Review s47 (SPEC §8 SAML; §2 spirit: a secret is shown once and kept by its owner alone; §7
audit, channel ``system``; §10 ``manage.py`` commands with ``--json``): a private key saved as a
tenant's IdP signing certificate before the check refused it is no longer shown, but it stayed in
the SP's database, in the configuration and in the allauth app behind it (whose settings the
admin's Social applications page shows). ``manage.py clear_sso_private_keys`` replaces every
such value with empty, audited under its tenant without the key; the owner's page then asks for
the certificate, and SAML sign-ins of that tenant are refused (not a server error) until then."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from allauth.socialaccount.models import SocialApp
from django.core.management import call_command
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from audit.models import AuditEvent
from tests.accounts.saml_idp import make_keypair
from tests.accounts.test_review_s47_certificate_change_not_refused import SAML
from tests.accounts.test_review_s47_private_key_replaced import stored_private_key
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("clear_sso_private_keys", "--json", *args, stdout=out)
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


def stored_anywhere(key: str) -> bool:
    line = key.splitlines()[1]
    in_configs = TenantSSOConfig.objects.filter(idp_x509_cert__contains=line).exists()
    in_apps = any(line in json.dumps(settings) for settings in SocialApp.objects.values_list("settings", flat=True))
    return in_configs or in_apps


def test_the_command_clears_stored_private_keys_audited_without_the_key() -> None:
    tenant, owner, key = stored_private_key()
    TenantSSOConfig.objects.filter(tenant=tenant).update(is_active=True, require_sso=True)
    sso.sync_social_app(TenantSSOConfig.objects.get(tenant=tenant))  # the app holds the key too
    assert stored_anywhere(key)
    fine, _, _ = make_tenant(name="Fine")
    certificate = make_keypair("fine.test").cert_pem
    sso.sso_config_save(tenant=fine, actor=None, values={**SAML, "idp_x509_cert": certificate})
    fine_entries = AuditEvent.objects.filter(tenant=fine).count()

    result = run()

    assert result["cleared"] == [tenant.public_id]
    assert not stored_anywhere(key)
    config = TenantSSOConfig.objects.get(tenant=tenant)
    assert config.idp_x509_cert == "" and config.is_active and config.require_sso  # nothing else changes
    entry = AuditEvent.objects.filter(tenant=tenant, action="tenant.updated").latest("pk")
    assert entry.channel == "system"
    assert "PRIVATE KEY" not in json.dumps(entry.changes) and key.splitlines()[1] not in json.dumps(entry.changes)
    assert "private key" in json.dumps(entry.changes).lower()
    assert TenantSSOConfig.objects.get(tenant=fine).idp_x509_cert.strip() == certificate.strip()
    assert AuditEvent.objects.filter(tenant=fine).count() == fine_entries

    # Once more: nothing left, nothing recorded.
    entries = AuditEvent.objects.count()
    assert run()["cleared"] == []
    assert AuditEvent.objects.count() == entries

    # The owner is asked for the certificate; the admin's app page shows no key.
    page = Client()
    page.force_login(owner)
    body = page.get(f"/accounts/sso/?tenant={tenant.public_id}").content.decode()
    assert "PRIVATE KEY" not in body and "SAML needs the IdP signing certificate" not in body
    app = SocialApp.objects.get(provider_id=config.provider_id)
    admin_page = superuser_in_admin().get(f"/admin/socialaccount/socialapp/{app.pk}/change/").content.decode()
    assert key.splitlines()[1] not in admin_page

    # A SAML sign-in of the tenant is refused, not a server error.
    browser = Client(HTTP_HOST="localhost", raise_request_exception=False)
    started = browser.post(sso.login_url(config))
    assert started.status_code < 500


def test_the_owner_pastes_the_certificate_after_it_was_cleared() -> None:
    tenant, owner, _key = stored_private_key()
    run()
    page = Client()
    page.force_login(owner)
    url = f"/accounts/sso/?tenant={tenant.public_id}"
    from tests.accounts.test_review_s47_certificate_change_not_refused import as_a_browser_posts

    data = as_a_browser_posts(page.get(url).content.decode())
    answer = page.post(url, {**data, "idp_x509_cert": make_keypair("new.acme.test").cert_pem})

    assert answer.status_code == 302
    assert "BEGIN CERTIFICATE" in TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert
