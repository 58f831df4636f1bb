"""Review s40 (C): verified domains and what they grant, from the outsider's side (SPEC §8)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import domains
from accounts.models import TenantDomain
from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import _signed_in, acme_idp, globex_idp, world
from tests.accounts.test_sso_oidc import sso_sign_in
from tests.factories import PASSWORD, UserFactory, add_member

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


# --- An address held unverified does not veto the tenant that proved its domain -----------
# Anyone may add any address to their account (allauth's email page; it stays unverified, as
# the mail goes to its real mailbox). Eve, an outsider, adds newhire@acme.test before the new
# hire's first day. Acme verified acme.test through DNS and its IdP asserts the address verified:
# the new hire's first sign-in must provision their account, not be refused because Eve's
# account "already has" the address. Eve's unproved claim on it is released (audited on her
# account), as a provider releases an address nobody proved when its owner proves it (SPEC §8).


def _eve_adds(address: str) -> Any:
    eve = UserFactory(email="eve@evil.test")
    client = Client()
    assert client.post("/accounts/login/", {"login": eve.email, "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    added = client.post("/accounts/email/", {"action_add": "", "email": address})
    assert added.status_code == 302, added.content[:500]
    assert EmailAddress.objects.filter(user=eve, email=address, verified=False).exists()
    return eve


def test_an_address_squatted_unverified_does_not_block_the_tenants_idp(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    eve = _eve_adds("newhire@acme.test")
    client = Client()
    done = sso_sign_in(client, acme_idp, "NewHire@acme.test", sub="sub-newhire")
    assert done.status_code == 302, done.content[:800]
    newhire = get_user_model().objects.get(email_canonical="newhire@acme.test")
    assert newhire.pk != eve.pk
    assert OrgMembership.objects.filter(user=newhire, organization=world["acme_org"]).exists()
    assert client.get("/api/v1/me").json()["user"]["email"] == newhire.email
    # Eve's account no longer holds the address; her account says so in its tenant's log.
    assert not EmailAddress.objects.filter(user=eve, email="newhire@acme.test").exists()
    entries = AuditEvent.objects.filter(action="user.email_changed", target_id=str(eve.public_id))
    assert {"released": "newhire@acme.test"} in [entry.changes for entry in entries]


def test_an_address_the_idp_does_not_assert_verified_stays_refused(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    eve = _eve_adds("newhire@acme.test")
    done = sso_sign_in(Client(), acme_idp, "newhire@acme.test", sub="sub-newhire", email_verified=False)
    assert done.status_code == 403
    assert not get_user_model().objects.filter(email_canonical="newhire@acme.test").exists()
    assert EmailAddress.objects.filter(user=eve, email="newhire@acme.test").exists()


def test_an_address_held_verified_elsewhere_still_blocks_provisioning(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    """Proved by another account (and not its primary address): that account's owner links it."""
    holder = UserFactory(email="holder@elsewhere.test")
    EmailAddress.objects.create(user=holder, email="newhire@acme.test", verified=True)
    done = sso_sign_in(Client(), acme_idp, "newhire@acme.test", sub="sub-newhire")
    assert done.status_code == 403
    assert EmailAddress.objects.filter(user=holder, email="newhire@acme.test", verified=True).exists()


def test_a_members_own_unverified_address_is_not_taken_from_them(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    """A member of the tenant may be the person, yet to verify: refused (sign in and link), kept."""
    member = add_member(world["acme_org"], "member", UserFactory(email="kim@freemail.test"))
    EmailAddress.objects.create(user=member, email="kim@acme.test", verified=False, primary=False)
    done = sso_sign_in(Client(), acme_idp, "kim@acme.test", sub="sub-kim")
    assert done.status_code == 403
    assert "already exists" in done.content.decode()
    assert EmailAddress.objects.filter(user=member, email="kim@acme.test").exists()
