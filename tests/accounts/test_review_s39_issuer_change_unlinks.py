"""Changing a tenant's identity provider (OIDC issuer, SAML entity id) gives it a new provider
id, so every identity linked to the old one stops signing its person in: they link again (or
are matched again by verified email) on their next sign-in. The owner must see that consequence:
the settings page warns before saving, and the audit entry says how many identities of which
provider were unlinked, not only that the issuer changed (SPEC §7, §8)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts import sso
from audit.models import AuditEvent
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db

OIDC = {"protocol": "oidc", "issuer": "https://idp.acme.example", "client_id": "tater", "client_secret": "s"}


def test_the_entry_counts_the_identities_the_new_issuer_unlinks() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    config = sso.sso_config_save(tenant=tenant, actor=owner, values=OIDC)
    old = config.provider_id
    for n in range(2):
        SocialAccount.objects.create(user=UserFactory(), provider=old, uid=f"sub-{n}")
    sso.sso_config_save(tenant=tenant, actor=owner, values={"issuer": "https://login.other.example"})
    entry = AuditEvent.objects.filter(action="tenant.updated", tenant=tenant).order_by("-pk").first()
    assert entry is not None
    assert entry.changes["sso"]["issuer"] == {"from": OIDC["issuer"], "to": "https://login.other.example"}
    assert entry.changes["sso"]["identities_unlinked"] == {"provider": old, "count": 2}
    # A change that keeps the issuer unlinks nothing and says nothing about it.
    sso.sso_config_save(tenant=tenant, actor=owner, values={"default_role": "viewer"})
    latest = AuditEvent.objects.filter(action="tenant.updated", tenant=tenant).order_by("-pk").first()
    assert latest is not None and "identities_unlinked" not in latest.changes["sso"]


def test_the_settings_page_warns_before_the_issuer_changes() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    config = sso.sso_config_save(tenant=tenant, actor=owner, values=OIDC)
    SocialAccount.objects.create(user=UserFactory(), provider=config.provider_id, uid="sub-1")
    client = Client()
    client.force_login(owner)
    page = client.get("/accounts/sso/", {"tenant": tenant.public_id}).content.decode()
    assert "1 linked identity" in page and "unlink" in page
