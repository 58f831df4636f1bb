"""Tenant SSO over SAML 2.0 with responses built and signed by the test (tests/accounts/
saml_idp.py): SP-initiated sign-in with JIT provisioning, identity = issuer + NameID, and
every refusal (unsigned, tampered, foreign key, replayed, unsolicited, expired, wrong
audience, no takeover of an account outside the verified domain). Also the global
"Sign in with Google / Microsoft" buttons."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from urllib.parse import urlparse

import pytest
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory

from accounts import saml_replay, sso
from accounts.adapter import SocialAccountAdapter
from accounts.models import TenantSSOConfig
from audit.models import AuditEvent
from orgs.models import OrgMembership, TenantMembership
from tests.accounts.conftest import enrol, verify_domain_via_dns
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.saml_idp import AuthnRequest, SAMLIdP, make_keypair
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db

EMAIL_ATTR = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"


@pytest.fixture
def idp() -> SAMLIdP:
    return SAMLIdP()


@pytest.fixture
def tenant_saml(idp: SAMLIdP, dns: LoopbackDNS) -> dict[str, Any]:
    tenant, owner, (_org1, org2) = make_tenant(name="Acme", orgs=2)
    config = sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": idp.entity_id,
            "idp_sso_url": idp.sso_url,
            "idp_x509_cert": idp.keys.cert_pem,
            "default_organization": org2,
            "default_role": "viewer",
        },
    )
    verify_domain_via_dns(dns, tenant, owner, "acme.test")
    return {"tenant": tenant, "owner": owner, "org": org2, "config": config}


def browser() -> Client:
    # A browser always sends Host; python3-saml builds the ACS URL / audience from it (and
    # rejects single-label hosts such as "testserver").
    return Client(HTTP_HOST="localhost")


def start(client: Client, idp: SAMLIdP, email: str = "jane@acme.test") -> AuthnRequest:
    """Email-first, SP-initiated: the login page routes the domain to the tenant's SAML
    app, which redirects the browser to the IdP with an AuthnRequest (its ID stashed by
    allauth in the session)."""
    routed = client.post("/accounts/login/", {"login": email, "password": "", "sso": "1"})
    assert routed.status_code == 302 and "/accounts/saml/" in routed["Location"], routed
    to_idp = client.post(routed["Location"])
    assert to_idp.status_code == 302 and to_idp["Location"].startswith(idp.sso_url), to_idp
    return idp.read_request(to_idp["Location"])


def post_response(client: Client, acs_url: str, xml: str) -> Any:
    """The browser POSTs the response to the ACS (HTTP-POST binding); allauth stores it and
    redirects to its finish step, which validates it and signs the user in."""
    posted = client.post(urlparse(acs_url).path, SAMLIdP.post_data(xml))
    assert posted.status_code == 302, posted
    return client.get(posted["Location"])


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def failures(tenant: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="user.login_failed", tenant=tenant))


def jane(idp: SAMLIdP, request: AuthnRequest | None, **kwargs: Any) -> str:
    kwargs.setdefault("name_id", "00u-jane")
    kwargs.setdefault("attributes", {EMAIL_ATTR: "jane@acme.test"})
    return idp.response(request, **kwargs)


def assert_refused(client: Client, response: Any, tenant: Any, *, status: int = 401) -> None:
    assert response.status_code == status, response.content[:800]
    assert not signed_in(client)
    assert not get_user_model().objects.filter(email__endswith="@acme.test").exists()  # nobody provisioned
    assert not SocialAccount.objects.exists()
    assert failures(tenant), "a refused SSO sign-in is audited as user.login_failed"


def test_signed_response_signs_in_and_provisions_the_user(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    client = browser()
    request = start(client, idp)
    config = tenant_saml["config"]
    assert request.acs_url == f"http://localhost/accounts/saml/{config.provider_id}/acs/"
    assert request.sp_entity_id == f"http://localhost/accounts/saml/{config.provider_id}/metadata/"
    # An attribute that looks like an identifier does not replace the NameID.
    xml = jane(
        idp,
        request,
        attributes={
            EMAIL_ATTR: "jane@acme.test",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "someone-else",
        },
    )
    done = post_response(client, request.acs_url, xml)
    assert done.status_code == 302 and done["Location"] == "/", done.content[:1500]
    assert signed_in(client)
    membership = OrgMembership.objects.get(user__email="jane@acme.test")
    assert membership.organization == tenant_saml["org"] and membership.role == "viewer"
    assert not TenantMembership.objects.filter(user__email="jane@acme.test").exists()  # no self-service tenant
    account = SocialAccount.objects.get(user__email="jane@acme.test")
    assert (account.provider, account.uid) == (config.provider_id, "00u-jane")
    assert AuditEvent.objects.filter(
        action="user.sso_linked", tenant=tenant_saml["tenant"], target_id=membership.user.public_id
    ).exists()
    assert AuditEvent.objects.filter(action="user.login", actor_user_id=membership.user_id).exists()
    assert not failures(tenant_saml["tenant"])


def test_identity_is_issuer_and_name_id_not_email(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    first = browser()
    request = start(first, idp)
    post_response(first, request.acs_url, jane(idp, request))
    user_id = SocialAccount.objects.get(uid="00u-jane").user.public_id
    # The IdP renames her: same issuer + NameID, same Tater user.
    second = browser()
    request = start(second, idp)
    post_response(second, request.acs_url, jane(idp, request, attributes={EMAIL_ATTR: "jane.doe@acme.test"}))
    assert second.get("/api/v1/me").json()["user"]["id"] == user_id
    # A new IdP entity id (issuer): its NameIDs are new identities. The connection keeps its
    # provider id (the addresses registered at the IdP, review s47); the old identities leave it.
    old_provider = tenant_saml["config"].provider_id
    config = sso.sso_config_save(
        tenant=tenant_saml["tenant"], actor=tenant_saml["owner"], values={"idp_entity_id": "https://idp2.acme.test/"}
    )
    assert config.provider_id == old_provider
    assert not SocialAccount.objects.filter(provider=old_provider).exists()
    assert SocialApp.objects.get(provider_id=old_provider).settings["idp"]["entity_id"] == "https://idp2.acme.test/"


def test_unsigned_response_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    client = browser()
    request = start(client, idp)
    response = post_response(client, request.acs_url, jane(idp, request, sign=False))
    assert_refused(client, response, tenant_saml["tenant"])
    assert "not signed" in failures(tenant_saml["tenant"])[0].changes["reason"]


@pytest.mark.parametrize(
    "change", [("jane@acme.test", "boss@acme.test"), ("00u-jane", "00u-boss")], ids=["email", "name_id"]
)
def test_tampered_response_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any], change: tuple[str, str]) -> None:
    client = browser()
    request = start(client, idp)
    xml = jane(idp, request)
    assert xml.count(change[0]) == 1
    response = post_response(client, request.acs_url, xml.replace(*change))
    assert_refused(client, response, tenant_saml["tenant"])
    assert "Signature validation failed" in failures(tenant_saml["tenant"])[0].changes["reason"]


def test_response_signed_by_another_key_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    client = browser()
    request = start(client, idp)
    response = post_response(client, request.acs_url, jane(idp, request, keys=make_keypair("evil.test")))
    assert_refused(client, response, tenant_saml["tenant"])


def test_expired_assertion_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    client = browser()
    request = start(client, idp)
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)  # valid 5 min, 15 min ago (beyond the 5 min drift)
    response = post_response(client, request.acs_url, jane(idp, request, issued_at=stale))
    assert_refused(client, response, tenant_saml["tenant"])


def test_wrong_audience_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    client = browser()
    request = start(client, idp)
    response = post_response(client, request.acs_url, jane(idp, request, audience="https://other-sp.example/metadata"))
    assert_refused(client, response, tenant_saml["tenant"])
    assert "not a valid audience" in failures(tenant_saml["tenant"])[0].changes["reason"]


def test_idp_initiated_sign_in_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    config = tenant_saml["config"]
    acs = f"http://localhost/accounts/saml/{config.provider_id}/acs/"
    audience = f"http://localhost/accounts/saml/{config.provider_id}/metadata/"
    client = browser()
    response = post_response(client, acs, jane(idp, None, acs_url=acs, audience=audience))
    assert_refused(client, response, tenant_saml["tenant"], status=403)
    assert "unsolicited" in failures(tenant_saml["tenant"])[0].changes["reason"]


def test_replayed_assertion_is_refused(idp: SAMLIdP, tenant_saml: dict[str, Any]) -> None:
    client = browser()
    request = start(client, idp)
    xml = jane(idp, request)
    assert post_response(client, request.acs_url, xml).status_code == 302
    client.post("/accounts/logout/")
    # Posted again in the same browser: refused.
    again = post_response(client, request.acs_url, xml)
    assert again.status_code == 403 and not signed_in(client)
    # Posted by someone else who captured it (their session never asked for it): refused.
    other = browser()
    assert post_response(other, request.acs_url, xml).status_code == 403
    assert not signed_in(other)
    assert SocialAccount.objects.count() == 1


def test_concurrent_replay_in_the_same_session_is_refused_by_the_assertion_cache(
    idp: SAMLIdP,
    tenant_saml: dict[str, Any],
) -> None:
    """Two posts of one response racing in one session both find the AuthnRequest stashed
    (allauth's InResponseTo check alone would pass both): the assertion-ID cache refuses
    the second. The race is reproduced by putting the consumed stash back."""
    client = browser()
    request = start(client, idp)
    stash = dict(client.session.items())
    xml = jane(idp, request)
    assert post_response(client, request.acs_url, xml).status_code == 302
    racer = browser()
    session = racer.session
    session.update(stash)
    session.save()
    racer.cookies["sessionid"] = session.session_key
    replay = post_response(racer, request.acs_url, xml)
    assert replay.status_code == 403 and b"already used" in replay.content
    assert not signed_in(racer)
    assert failures(tenant_saml["tenant"])[0].changes["reason"] == "This sign-in response was already used."
    # The same stash with a fresh assertion is accepted: the cache is what refused the replay.
    session = racer.session
    session.update(stash)
    session.save()
    assert post_response(racer, request.acs_url, jane(idp, request)).status_code == 302
    assert signed_in(racer)


def test_assertion_cache_refuses_unbounded_assertions() -> None:
    with pytest.raises(saml_replay.AssertionRefused, match="no expiry"):
        saml_replay.claim(provider_id="tenant-x", assertion_id="_a1", not_on_or_after=None)
    with pytest.raises(saml_replay.AssertionRefused, match="too long"):
        saml_replay.claim(provider_id="tenant-x", assertion_id="_a1", not_on_or_after=10**10)
    saml_replay.claim(
        provider_id="tenant-x", assertion_id="_a1", not_on_or_after=dt.datetime.now(dt.UTC).timestamp() + 60
    )
    # Same ID from another IdP is another assertion.
    saml_replay.claim(
        provider_id="tenant-y", assertion_id="_a1", not_on_or_after=dt.datetime.now(dt.UTC).timestamp() + 60
    )
    with pytest.raises(saml_replay.AssertionRefused, match="already used"):
        saml_replay.claim(
            provider_id="tenant-x", assertion_id="_a1", not_on_or_after=dt.datetime.now(dt.UTC).timestamp() + 60
        )


def test_existing_account_outside_the_verified_domain_is_not_taken_over(
    idp: SAMLIdP, tenant_saml: dict[str, Any]
) -> None:
    victim = UserFactory(email="victim@elsewhere.test")
    client = browser()
    request = start(client, idp)
    xml = idp.response(request, name_id="attacker", attributes={EMAIL_ATTR: victim.email, "email_verified": "true"})
    response = post_response(client, request.acs_url, xml)
    assert response.status_code == 403 and not signed_in(client)
    assert not SocialAccount.objects.exists()
    assert not OrgMembership.objects.filter(user=victim).exists()
    failure = failures(tenant_saml["tenant"])[0]
    assert failure.changes["email"] == victim.email and failure.changes["method"] == "sso"


def test_existing_account_in_the_domain_is_linked_only_with_a_verified_email(
    idp: SAMLIdP, tenant_saml: dict[str, Any]
) -> None:
    boss = UserFactory(email="boss@acme.test")
    OrgMembership.objects.create(organization=tenant_saml["org"], user=boss, role="member")  # one of Acme's
    client = browser()
    request = start(client, idp, boss.email)
    response = post_response(
        client, request.acs_url, idp.response(request, name_id="00u-x", attributes={EMAIL_ATTR: boss.email})
    )
    assert response.status_code == 403 and not signed_in(client)
    assert not SocialAccount.objects.filter(user=boss).exists()
    linked = browser()
    request = start(linked, idp, boss.email)
    xml = idp.response(request, name_id="00u-boss", attributes={EMAIL_ATTR: boss.email, "email_verified": "true"})
    assert post_response(linked, request.acs_url, xml).status_code == 302
    assert SocialAccount.objects.get(user=boss).uid == "00u-boss"
    assert linked.get("/api/v1/me").json()["user"]["id"] == boss.public_id


def test_saml_sign_in_asks_enrolled_users_for_their_second_factor(
    idp: SAMLIdP, tenant_saml: dict[str, Any], clock: Any
) -> None:
    first = browser()
    request = start(first, idp)
    post_response(first, request.acs_url, jane(idp, request))
    enrol(SocialAccount.objects.get(uid="00u-jane").user, clock.now)
    second = browser()
    request = start(second, idp)
    response = post_response(second, request.acs_url, jane(idp, request))
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/challenge/"
    assert not signed_in(second)


def test_saml_settings_page_saves_the_config(idp: SAMLIdP) -> None:
    tenant, owner, (org,) = make_tenant(name="Beta")
    client = browser()
    client.force_login(owner)
    response = client.post(
        "/accounts/sso/",
        {
            "tenant": tenant.public_id,
            "protocol": "saml",
            "idp_entity_id": idp.entity_id,
            "idp_sso_url": idp.sso_url,
            "idp_x509_cert": idp.keys.cert_pem,
            "default_role": "member",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:1500]
    config = TenantSSOConfig.objects.get(tenant=tenant)
    app = SocialApp.objects.get(provider_id=config.provider_id)
    assert app.provider == "saml" and app.settings["advanced"]["reject_idp_initiated_sso"] is True
    assert app.settings["advanced"]["want_assertion_signed"] is True and "uid" not in app.settings["attribute_mapping"]


# --- Global "Sign in with Google / Microsoft" ------------------------------------------------


def test_login_page_shows_no_provider_button_without_an_app(tenant_saml: dict[str, Any]) -> None:
    page = browser().get("/accounts/login/").content.decode()
    assert "Sign in with Google" not in page and "Sign in with Microsoft" not in page
    # Tenant IdPs are reached by email, never listed (that would disclose tenant names).
    assert "Acme" not in page and tenant_saml["config"].provider_id not in page


def test_login_page_shows_a_button_per_configured_provider(tenant_saml: dict[str, Any]) -> None:
    SocialApp.objects.create(provider="google", name="Google", client_id="g-client", secret="g-secret")
    page = browser().get("/accounts/login/").content.decode()
    assert 'action="/accounts/google/login/?process=login"' in page and "Sign in with Google" in page
    assert "Sign in with Microsoft" not in page and "g-secret" not in page
    SocialApp.objects.create(provider="microsoft", name="Microsoft", client_id="m-client", secret="m-secret")
    page = browser().get("/accounts/login/?next=/keys/").content.decode()
    assert 'action="/accounts/microsoft/login/?process=login&amp;next=%2Fkeys%2F"' in page
    assert page.count("Sign in with") == 2
    # The button starts the provider's flow (a redirect to Google, no network call here).
    client = browser()
    client.get("/accounts/login/")
    started = client.post("/accounts/google/login/?process=login")
    assert started.status_code == 302 and started["Location"].startswith("https://accounts.google.com/o/oauth2/")
    assert "client_id=g-client" in started["Location"]


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_global_provider_cannot_bypass_tenant_sso_requirement(tenant_saml: dict[str, Any], provider: str) -> None:
    sso.sso_config_save(tenant=tenant_saml["tenant"], actor=tenant_saml["owner"], values={"require_sso": True})
    member = UserFactory(email="bob@acme.test")
    OrgMembership.objects.create(organization=tenant_saml["org"], user=member, role="member")
    http = RequestFactory().get(f"/accounts/{provider}/login/callback/")
    http.user = AnonymousUser()
    http.session = {}
    adapter = SocialAccountAdapter(http)
    # An existing Google/Microsoft identity of a member, and a new one in the domain: refused.
    existing = SocialLogin(user=member, account=SocialAccount(provider=provider, uid="g-1", user=member))
    new = SocialLogin(user=get_user_model()(email="new@acme.test"), account=SocialAccount(provider=provider, uid="g-2"))
    for login in (existing, new):
        with pytest.raises(ImmediateHttpResponse) as refused:
            adapter.pre_social_login(http, login)
        assert refused.value.response.status_code == 403
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="sso").count() == 2
    # Outside SSO-required tenants, the global providers work as usual.
    adapter.pre_social_login(
        http,
        SocialLogin(user=get_user_model()(email="x@gmail.test"), account=SocialAccount(provider=provider, uid="g-3")),
    )


@pytest.mark.realservices
def test_assertion_cache_lets_exactly_one_concurrent_claim_win() -> None:
    """On Redis, cache.add is atomic: of many racing claims of one assertion, one wins."""
    wins: list[bool] = []
    barrier = threading.Barrier(8)
    until = dt.datetime.now(dt.UTC).timestamp() + 60

    def claim() -> None:
        barrier.wait()
        try:
            saml_replay.claim(provider_id="tenant-race", assertion_id="_race", not_on_or_after=until)
            wins.append(True)
        except saml_replay.AssertionRefused:
            wins.append(False)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
