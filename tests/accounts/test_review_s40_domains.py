"""Review s40 (C): verified domains and what they grant, from the outsider's side (SPEC §8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import domains
from accounts.models import TenantDomain
from orgs import services as org_services
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import _signed_in, acme_idp, globex_idp, world

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "globex_idp", "world"]  # fixtures


# --- A session barred from a tenant does not manage the tenant's domains ------------------
# Globex requires SSO of Bob, one of its owners; his session signed in through Acme's IdP has
# not passed Globex's. The settings page refuses it (test_review_s39_sso_settings_barred), and
# so must the Remove and Verify buttons' own URLs: removing globex.test lifts "Require SSO" (and
# the IdP's routing) for everyone in the domain, from a session Globex's IdP never let in.


def _globex_owner_signed_in_through_acme(world: dict[str, Any], acme_idp: OIDCProvider) -> Client:
    org_services.tenant_member_set(tenant=world["globex"], user=world["bob"], role="owner")
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    return client


def test_a_barred_session_cannot_remove_the_tenants_verified_domain(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    client = _globex_owner_signed_in_through_acme(world, acme_idp)
    claim = TenantDomain.objects.get(tenant=world["globex"], domain="globex.test")
    url = f"/accounts/sso/domains/{claim.pk}/remove/"
    confirm = client.get(url)
    assert confirm.status_code == 403 and "single sign-on" in confirm.content.decode()
    removed = client.post(url)
    assert removed.status_code == 403 and "single sign-on" in removed.content.decode()
    assert TenantDomain.objects.filter(pk=claim.pk, verified_at__isnull=False).exists()
    # Globex's requirement still holds for Bob's password sign-in.
    answer = Client().post(
        "/api/v1/auth/login", {"email": "bob@globex.test", "password": "x"}, content_type="application/json"
    )
    assert answer.status_code == 403 and answer.json()["error"] == "SSO_REQUIRED", answer.content


def test_a_barred_session_cannot_verify_a_domain_for_the_tenant(
    world: dict[str, Any], acme_idp: OIDCProvider, dns: LoopbackDNS
) -> None:
    client = _globex_owner_signed_in_through_acme(world, acme_idp)
    pending = domains.domain_add(tenant=world["globex"], actor=None, domain="globex-eu.test")
    dns.zone.publish(pending.record_name, pending.record_value)
    answer = client.post(f"/accounts/sso/domains/{pending.pk}/verify/")
    assert answer.status_code == 403 and "single sign-on" in answer.content.decode()
    pending.refresh_from_db()
    assert not pending.is_verified
    assert dns.zone.queries == []  # refused before any lookup


def test_the_same_owner_manages_the_domains_of_a_tenant_the_session_reaches(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    """Acme requires nothing: Bob, an owner there too, removes its domain from the same session."""
    org_services.tenant_member_set(tenant=world["acme"], user=world["bob"], role="owner")
    client = _globex_owner_signed_in_through_acme(world, acme_idp)
    claim = domains.domain_add(tenant=world["acme"], actor=None, domain="acme-eu.test")
    answer = client.post(f"/accounts/sso/domains/{claim.pk}/remove/")
    assert answer.status_code == 302
    assert not TenantDomain.objects.filter(pk=claim.pk).exists()
