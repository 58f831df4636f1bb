"""Verified domains (SPEC §8): a tenant's SSO configuration routes sign-ins, requires SSO,
links or provisions accounts only for an email domain the tenant has proven it controls
with a DNS TXT record carrying a tenant-specific token; a domain is verified by one tenant
at most; an SSO identity is linked to an existing account only when that account already
belongs to the tenant, otherwise its owner links it after signing in.

DNS is a real authoritative server on loopback (tests/accounts/dns_server.py), the IdP a
real OpenID Connect provider on loopback (tests/accounts/oidc_provider.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import TenantDomain, TenantSSOConfig
from audit.models import AuditEvent
from orgs.models import OrgMembership, TenantMembership
from tests.accounts.dns_server import LoopbackDNS, free_udp_port
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import PASSWORD, UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db

RECORD_VALUE = re.compile(r"tater-domain-verification=([A-Za-z0-9_-]{16,})")


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


def owner_browser(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def configure_sso(client: Client, tenant: Any, idp: OIDCProvider, **extra: str) -> Any:
    """The owner fills in the SSO settings page (OpenID Connect)."""
    form = {
        "tenant": tenant.public_id,
        "protocol": "oidc",
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        "default_role": "member",
        "is_active": "on",
        **extra,
    }
    return client.post("/accounts/sso/", form)


def add_domain(client: Client, tenant: Any, domain: str) -> Any:
    return client.post("/accounts/sso/domains/", {"tenant": tenant.public_id, "domain": domain})


def domain_row(page: str, domain: str) -> str:
    """The settings page's block for one domain (between its data-domain markers)."""
    match = re.search(rf'<li[^>]*data-domain="{re.escape(domain)}".*?</li>', page, re.S)
    assert match, f"{domain} is not listed on the page"
    return match.group(0)


def press_verify(client: Client, tenant: Any, row: str) -> Any:
    action = re.search(r'action="(/accounts/sso/domains/[^"]+/verify/)"', row)
    assert action, row
    return client.post(action.group(1), {"tenant": tenant.public_id}, follow=True)


def idp_round_trip(client: Client, idp: OIDCProvider, start_url: str, **claims: Any) -> Any:
    """Start the tenant IdP's sign-in at ``start_url``, sign in at the IdP as ``claims``,
    come back; returns Django's answer to the callback."""
    idp.claims = {"email_verified": True, **claims}
    start = client.post(start_url)
    assert start.status_code == 302 and start["Location"].startswith(idp.issuer), start
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def provider_login_url(tenant: Any) -> str:
    return f"/accounts/oidc/{TenantSSOConfig.objects.get(tenant=tenant).provider_id}/login/"


def routed_to_sso(response: Any) -> bool:
    return response.status_code == 302 and "/accounts/oidc/" in response["Location"]


# --- The attack: another company's domain typed into the SSO settings --------------------------


def test_attack_unverified_foreign_domain_routes_requires_links_and_provisions_nothing(
    idp: OIDCProvider, dns: LoopbackDNS
) -> None:
    # The real company uses Tater with passwords; Jane works there.
    _victim_tenant, _victim_owner, (victim_org,) = make_tenant(name="Victim")
    jane = add_member(victim_org, "member", UserFactory(email="jane@victim.test"))
    # Mallory signs up, gets a tenant, points SSO at her own IdP and claims victim.test.
    mallory = UserFactory(email="mallory@evil.test")
    evil, _, (evil_org,) = make_tenant(name="Evil", owner=mallory)
    browser = owner_browser(mallory)
    configure_sso(browser, evil, idp, email_domain="victim.test", require_sso="on", default_role="admin")
    add_domain(browser, evil, "victim.test")
    for row in re.findall(
        r'action="(/accounts/sso/domains/[^"]+/verify/)"', browser.get("/accounts/sso/").content.decode()
    ):
        browser.post(row, {"tenant": evil.public_id})  # no TXT record published: nothing verified
    assert TenantSSOConfig.objects.filter(tenant=evil).exists()
    assert not TenantDomain.objects.filter(domain="victim.test", verified_at__isnull=False).exists()

    # Routing: Jane's email is not sent to Mallory's IdP, by any entry point.
    assert not routed_to_sso(Client().post("/accounts/login/", {"login": jane.email, "password": "", "sso": "1"}))
    assert not routed_to_sso(Client().post("/accounts/sso/start/", {"email": jane.email}))
    # "SSO required" does not lock Jane out of password sign-in (UI, JSON, credential exchange).
    ui = Client()
    signed_in = ui.post("/accounts/login/", {"login": jane.email, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/", signed_in
    assert ui.get("/api/v1/me").json()["user"]["id"] == jane.public_id
    api = APIClient().post("/api/v1/auth/login", {"email": jane.email, "password": PASSWORD}, format="json")
    assert api.status_code == 200 and api.json()["requires2FA"] is False
    # Colleagues can still sign up with a password.
    signup = Client().post(
        "/accounts/signup/",
        {"email": "newbie@victim.test", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert signup.status_code == 302
    # Linking: Mallory's IdP asserting Jane's (verified) address takes nothing over.
    attacker = Client()
    refused = idp_round_trip(attacker, idp, provider_login_url(evil), sub="mallory-as-jane", email=jane.email)
    assert refused.status_code == 403
    assert attacker.get("/api/v1/me").status_code == 401
    assert not SocialAccount.objects.filter(user=jane).exists()
    assert not OrgMembership.objects.filter(user=jane, organization=evil_org).exists()
    # Provisioning: a fresh address of the domain gets no account in Mallory's tenant.
    fresh = Client()
    refused = idp_round_trip(fresh, idp, provider_login_url(evil), sub="ghost", email="ghost@victim.test")
    assert refused.status_code == 403
    assert not get_user_model().objects.filter(email="ghost@victim.test").exists()
    assert not SocialAccount.objects.exists()
    assert AuditEvent.objects.filter(action="user.login_failed", tenant=evil, changes__method="sso").count() == 2


# --- Proving control through DNS ----------------------------------------------------------------


def test_owner_adds_a_domain_publishes_the_txt_record_and_verifies_it(idp: OIDCProvider, dns: LoopbackDNS) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    browser = owner_browser(owner)
    assert configure_sso(browser, tenant, idp).status_code == 302
    assert add_domain(browser, tenant, " ACME.test. ").status_code == 302
    page = browser.get("/accounts/sso/").content.decode()
    row = domain_row(page, "acme.test")
    # The page names the record to publish and its value, with a tenant-specific token.
    assert "_tater-challenge.acme.test" in row and "TXT" in row
    token = RECORD_VALUE.search(row).group(1)  # type: ignore[union-attr]
    assert "Pending" in row
    assert not routed_to_sso(Client().post("/accounts/login/", {"login": "jane@acme.test", "password": "", "sso": "1"}))

    # Nothing published yet: not verified, and the page says what is missing.
    missing = press_verify(browser, tenant, row).content.decode()
    assert "_tater-challenge.acme.test" in missing and "Pending" in domain_row(missing, "acme.test")
    # A wrong token, or the right token at the wrong name: still not verified.
    dns.zone.publish("_tater-challenge.acme.test", "tater-domain-verification=not-the-token")
    dns.zone.publish("acme.test", f"tater-domain-verification={token}")
    assert "Pending" in domain_row(press_verify(browser, tenant, row).content.decode(), "acme.test")
    assert ("_tater-challenge.acme.test", "TXT") in dns.zone.queries  # asked on the wire
    assert not TenantDomain.objects.get(domain="acme.test").verified_at
    # The right record (next to others, split into several strings as long TXT values are): verified.
    dns.zone.publish("_tater-challenge.acme.test", "tater-domain-", f"verification={token}")
    done = press_verify(browser, tenant, row).content.decode()
    assert "Verified" in domain_row(done, "acme.test")
    assert TenantDomain.objects.get(domain="acme.test").verified_at is not None

    added = AuditEvent.objects.get(action="sso.domain_added", tenant=tenant)
    assert added.changes["domain"] == "acme.test" and added.actor_user_id == owner.pk
    verified = AuditEvent.objects.get(action="sso.domain_verified", tenant=tenant)
    assert verified.changes["domain"] == "acme.test" and verified.actor_user_id == owner.pk
    assert AuditEvent.objects.filter(action="sso.domain_verification_failed", tenant=tenant).count() == 2
    assert token not in str(list(AuditEvent.objects.values_list("changes", flat=True)))

    # Now the domain routes to the tenant's IdP and first sign-ins are provisioned.
    routed = Client().post("/accounts/login/", {"login": "jane@acme.test", "password": "", "sso": "1"})
    assert routed_to_sso(routed)
    client = Client()
    assert idp_round_trip(client, idp, routed["Location"], sub="00u-jane", email="jane@acme.test").status_code == 302
    assert OrgMembership.objects.get(user__email="jane@acme.test").organization == org


def test_the_token_is_tenant_specific_and_a_domain_is_verified_by_one_tenant_at_most(dns: LoopbackDNS) -> None:
    acme, acme_owner, _ = make_tenant(name="Acme")
    evil, evil_owner, _ = make_tenant(name="Evil")
    acme_browser, evil_browser = owner_browser(acme_owner), owner_browser(evil_owner)
    # Both claim the domain first: claiming alone blocks nobody.
    add_domain(evil_browser, evil, "acme.test")
    add_domain(acme_browser, acme, "acme.test")
    acme_row = domain_row(acme_browser.get("/accounts/sso/").content.decode(), "acme.test")
    evil_row = domain_row(evil_browser.get("/accounts/sso/").content.decode(), "acme.test")
    acme_token = RECORD_VALUE.search(acme_row).group(1)  # type: ignore[union-attr]
    assert RECORD_VALUE.search(evil_row).group(1) != acme_token  # type: ignore[union-attr]
    # Acme publishes its record: Mallory's tenant cannot verify with Acme's (public) record.
    dns.zone.publish("_tater-challenge.acme.test", f"tater-domain-verification={acme_token}")
    assert "Pending" in domain_row(press_verify(evil_browser, evil, evil_row).content.decode(), "acme.test")
    assert "Verified" in domain_row(press_verify(acme_browser, acme, acme_row).content.decode(), "acme.test")
    # Even with its own token published too, a second tenant never verifies the domain.
    evil_token = RECORD_VALUE.search(evil_row).group(1)  # type: ignore[union-attr]
    dns.zone.publish("_tater-challenge.acme.test", f"tater-domain-verification={evil_token}")
    refused = press_verify(evil_browser, evil, evil_row).content.decode()
    assert "another tenant" in refused and "Pending" in domain_row(refused, "acme.test")
    assert TenantDomain.objects.filter(domain="acme.test", verified_at__isnull=False).get().tenant == acme
    # Nor can it claim it anew.
    add_domain(evil_browser, evil, "acme.test")
    assert TenantDomain.objects.filter(domain="acme.test").count() == 2


def test_domain_management_is_owner_only(dns: LoopbackDNS) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    add_domain(owner_browser(owner), tenant, "acme.test")
    pending = TenantDomain.objects.get(domain="acme.test")
    dns.zone.publish(pending.record_name, pending.record_value)
    tenant_admin = UserFactory()
    TenantMembership.objects.create(tenant=tenant, user=tenant_admin, role="admin")
    org_admin = add_member(org, "admin")
    for user in (tenant_admin, org_admin):
        browser = owner_browser(user)
        assert browser.get("/accounts/sso/").status_code == 403
        assert add_domain(browser, tenant, "other.test").status_code in (403, 404)
        for action in ("verify", "remove"):
            response = browser.post(f"/accounts/sso/domains/{pending.pk}/{action}/", {"tenant": tenant.public_id})
            assert response.status_code in (403, 404)
    # The owner of another tenant does not even see it (404), with or without naming the tenant.
    _other, other_owner, _ = make_tenant(name="Other")
    stranger = owner_browser(other_owner)
    for data in ({}, {"tenant": tenant.public_id}):
        for action in ("verify", "remove"):
            assert stranger.post(f"/accounts/sso/domains/{pending.pk}/{action}/", data).status_code == 404
    pending.refresh_from_db()
    assert pending.verified_at is None
    assert not TenantDomain.objects.filter(domain="other.test").exists()
    # Domain changes are tenant policy: an owner without 2FA in a "require 2FA" tenant enrols first.
    tenant.require_2fa = True
    tenant.save()
    blocked = owner_browser(owner).post(f"/accounts/sso/domains/{pending.pk}/verify/", {"tenant": tenant.public_id})
    assert blocked.status_code == 302 and blocked["Location"] == "/accounts/2fa/"
    pending.refresh_from_db()
    assert pending.verified_at is None


@pytest.mark.parametrize(
    "typed", ["acme.test", "ACME.TEST", "acme.test.", "@acme.test", "acme.te\u017ft", "\uff41cme.test"]
)
def test_domain_spellings_are_normalised(typed: str) -> None:
    tenant, owner, _ = make_tenant()
    add_domain(owner_browser(owner), tenant, typed)
    assert list(TenantDomain.objects.values_list("domain", flat=True)) == ["acme.test"]


@pytest.mark.parametrize(
    "typed", ["localhost", "acme..test", "-acme.test", "https://acme.test/", "acme test", "a" * 64 + ".test", "1.2.3.4"]
)
def test_invalid_domains_are_refused(typed: str) -> None:
    tenant, owner, _ = make_tenant()
    response = add_domain(owner_browser(owner), tenant, typed)
    assert response.status_code in (200, 302, 400)
    assert not TenantDomain.objects.exists()


def test_dns_failures_are_reported_not_500(settings: Any) -> None:
    tenant, owner, _ = make_tenant()
    browser = owner_browser(owner)
    add_domain(browser, tenant, "acme.test")
    row = domain_row(browser.get("/accounts/sso/").content.decode(), "acme.test")
    # A nameserver that does not answer (nothing listens on the port).
    settings.TATER_DNS_NAMESERVERS = [f"127.0.0.1:{free_udp_port()}"]
    settings.TATER_DNS_TIMEOUT = 0.5
    page = press_verify(browser, tenant, row)
    assert page.status_code == 200 and "Pending" in domain_row(page.content.decode(), "acme.test")
    assert "DNS" in page.content.decode()


def test_servfail_and_nxdomain_leave_the_domain_pending(dns: LoopbackDNS) -> None:
    tenant, owner, _ = make_tenant()
    browser = owner_browser(owner)
    add_domain(browser, tenant, "acme.test")
    row = domain_row(browser.get("/accounts/sso/").content.decode(), "acme.test")
    assert "Pending" in domain_row(press_verify(browser, tenant, row).content.decode(), "acme.test")  # NXDOMAIN
    pending = TenantDomain.objects.get()
    dns.zone.publish(pending.record_name, pending.record_value)
    dns.zone.servfail = True
    assert "Pending" in domain_row(press_verify(browser, tenant, row).content.decode(), "acme.test")
    dns.zone.servfail = False
    assert "Verified" in domain_row(press_verify(browser, tenant, row).content.decode(), "acme.test")


def test_removing_a_verified_domain_stops_routing(idp: OIDCProvider, dns: LoopbackDNS) -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    browser = owner_browser(owner)
    configure_sso(browser, tenant, idp, require_sso="on")
    add_domain(browser, tenant, "acme.test")
    pending = TenantDomain.objects.get()
    dns.zone.publish(pending.record_name, pending.record_value)
    press_verify(browser, tenant, domain_row(browser.get("/accounts/sso/").content.decode(), "acme.test"))
    assert routed_to_sso(Client().post("/accounts/login/", {"login": "jane@acme.test", "password": "x"}))
    browser.post(f"/accounts/sso/domains/{pending.pk}/remove/", {"tenant": tenant.public_id})
    assert not TenantDomain.objects.exists()
    assert not routed_to_sso(Client().post("/accounts/login/", {"login": "jane@acme.test", "password": "x"}))
    removed = AuditEvent.objects.get(action="sso.domain_removed", tenant=tenant)
    assert removed.changes["domain"] == "acme.test" and removed.changes["was_verified"] is True


# --- Linking existing accounts ----------------------------------------------------------------------


def test_existing_account_outside_the_tenant_is_not_linked_but_its_owner_links_it_after_signing_in(
    idp: OIDCProvider, dns: LoopbackDNS
) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    browser = owner_browser(owner)
    configure_sso(browser, tenant, idp)
    add_domain(browser, tenant, "acme.test")
    pending = TenantDomain.objects.get()
    dns.zone.publish(pending.record_name, pending.record_value)
    press_verify(browser, tenant, domain_row(browser.get("/accounts/sso/").content.decode(), "acme.test"))
    # Bob signed up on his own before Acme adopted SSO: his account is not Acme's.
    bob = UserFactory(email="bob@acme.test")
    make_tenant(name="Bob's team", owner=bob)
    client = Client()
    refused = idp_round_trip(client, idp, provider_login_url(tenant), sub="00u-bob", email="Bob@acme.test")
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "sign in" in text.lower() and "link" in text.lower()
    assert not SocialAccount.objects.filter(user=bob).exists()
    assert client.get("/api/v1/me").status_code == 401
    assert not OrgMembership.objects.filter(user=bob, organization__tenant=tenant).exists()
    # Bob signs in with his password (not locked out: his account is not Acme's) and links it himself.
    bob_browser = Client()
    assert bob_browser.post("/accounts/login/", {"login": bob.email, "password": PASSWORD}).status_code == 302
    security = bob_browser.get("/accounts/security/").content.decode()
    link = re.search(r'<form[^>]*action="(/accounts/oidc/[^"]+/login/)"[^>]*>(.*?)</form>', security, re.S)
    assert link and 'name="process" value="connect"' in link.group(2), security
    idp.claims = {"sub": "00u-bob", "email": bob.email, "email_verified": True}
    start = bob_browser.post(link.group(1), {"process": "connect", "next": "/accounts/security/"})
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    # Linking an identity to an account asks for the account's password once more.
    back = bob_browser.get(f"{callback.path}?{callback.query}")
    assert back.status_code == 302 and back["Location"].startswith("/accounts/reauthenticate/"), back
    assert not SocialAccount.objects.filter(user=bob).exists()
    linked = bob_browser.post(back["Location"], {"password": PASSWORD})
    assert linked.status_code == 302, linked
    assert SocialAccount.objects.get(user=bob).uid == "00u-bob"
    # From now on the IdP signs Bob in to his own account.
    again = Client()
    assert idp_round_trip(again, idp, provider_login_url(tenant), sub="00u-bob", email=bob.email).status_code == 302
    assert again.get("/api/v1/me").json()["user"]["id"] == bob.public_id


def test_existing_member_of_the_tenant_is_linked_with_a_verified_email(idp: OIDCProvider, dns: LoopbackDNS) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    browser = owner_browser(owner)
    configure_sso(browser, tenant, idp)
    add_domain(browser, tenant, "acme.test")
    pending = TenantDomain.objects.get()
    dns.zone.publish(pending.record_name, pending.record_value)
    press_verify(browser, tenant, domain_row(browser.get("/accounts/sso/").content.decode(), "acme.test"))
    carol = add_member(org, "member", UserFactory(email="carol@acme.test"))
    unverified = Client()
    assert (
        idp_round_trip(
            unverified, idp, provider_login_url(tenant), sub="x", email=carol.email, email_verified=False
        ).status_code
        == 403
    )
    client = Client()
    assert (
        idp_round_trip(client, idp, provider_login_url(tenant), sub="00u-carol", email=carol.email).status_code == 302
    )
    assert SocialAccount.objects.get(user=carol).uid == "00u-carol"
    assert client.get("/api/v1/me").json()["user"]["id"] == carol.public_id


def test_a_signed_in_user_cannot_link_an_idp_that_does_not_speak_for_their_domain(
    idp: OIDCProvider, dns: LoopbackDNS
) -> None:
    """Linking after sign-in is for the IdP of the tenant that verified the account's own
    domain: another tenant's IdP (here one that merely claims the domain) is refused."""
    mallory = UserFactory(email="mallory@evil.test")
    evil, _, _ = make_tenant(name="Evil", owner=mallory)
    configure_sso(owner_browser(mallory), evil, idp)
    add_domain(owner_browser(mallory), evil, "victim.test")
    jane = UserFactory(email="jane@victim.test")
    browser = Client()
    assert browser.post("/accounts/login/", {"login": jane.email, "password": PASSWORD}).status_code == 302
    assert "Link single sign-on" not in browser.get("/accounts/security/").content.decode()
    idp.claims = {"sub": "mallory-idp-user", "email": "mallory@evil.test", "email_verified": True}
    start = browser.post(provider_login_url(evil), {"process": "connect"})
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    refused = browser.get(f"{callback.path}?{callback.query}")
    if refused.status_code == 302 and refused["Location"].startswith("/accounts/reauthenticate/"):
        refused = browser.post(refused["Location"], {"password": PASSWORD})
    assert refused.status_code == 403
    assert not SocialAccount.objects.exists()


@pytest.mark.django_db
def test_the_same_claim_added_twice_at_once_is_one_claim_not_a_500(monkeypatch: Any) -> None:
    """Two requests adding one domain for one tenant at the same moment: the second to
    insert meets the unique constraint; it answers the claim the first made."""
    from accounts import domains
    from tests.factories import make_tenant

    tenant, owner, _ = make_tenant(name="Acme")
    first = domains.domain_add(tenant=tenant, actor=owner, domain="acme.test")
    real_filter = TenantDomain.objects.filter
    calls = {"n": 0}

    def unseen_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        # The other request's insert lands between this one's look-up and its own insert.
        return TenantDomain.objects.none() if calls["n"] == 1 else real_filter(*args, **kwargs)

    monkeypatch.setattr(TenantDomain.objects, "filter", unseen_once)
    again = domains.domain_add(tenant=tenant, actor=owner, domain="acme.test")
    monkeypatch.undo()
    assert again.pk == first.pk
    assert TenantDomain.objects.filter(tenant=tenant).count() == 1
