"""An SSO identity linked earlier (SPEC §8, §1): a tenant's identity provider signs its
linked user in only while the account's email is in a domain the tenant verified.
Otherwise a person who left the tenant, moved their account to their own address and
joined another tenant would stay reachable by the old tenant's IdP admin, who asserts their
old subject again and reads the new tenant's data as them. (An account outside the tenant
but in its domains, which its owner linked, keeps signing in: tests/accounts/
test_verified_domains.py.) Over OpenID Connect (tests/accounts/oidc_provider.py) and SAML
(tests/accounts/saml_idp.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts import domains, sso
from accounts.models import TenantDomain
from audit.models import AuditEvent
from orgs import services as org_services
from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.saml_idp import SAMLIdP
from tests.accounts.test_sso_saml import EMAIL_ATTR, browser, post_response
from tests.accounts.test_verified_domains import idp_round_trip
from tests.factories import add_member, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db

REFUSAL = "Your identity provider can no longer sign in to this account"
PERSONAL = "jane@jane-personal.test"


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def acme(idp: OIDCProvider) -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(name="Acme")
    config = oidc_sso(tenant, owner, idp, default_organization=org, default_role="member")
    verified_domain(tenant, "acme.test")
    return {"tenant": tenant, "org": org, "config": config, "login_url": sso.login_url(config)}


def acme_signs_in_jane(client: Client, idp: OIDCProvider, acme: dict[str, Any]) -> Any:
    """Acme's IdP asserts Jane's subject (and her Acme address)."""
    return idp_round_trip(client, idp, acme["login_url"], sub="00u-jane", email="jane@acme.test")


def move_email(user: Any, address: str) -> None:
    """The account's address changes (allauth's email management: a verified new primary)."""
    EmailAddress.objects.filter(user=user).delete()
    user.email = address
    user.save()
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)


def signed_in_as(client: Client) -> str | None:
    me = client.get("/api/v1/me")
    return me.json()["user"]["id"] if me.status_code == 200 else None


def assert_refused(client: Client, response: Any) -> None:
    assert response.status_code == 403, response.content[:800]
    assert REFUSAL in response.content.decode()
    assert client.get("/api/v1/me").status_code == 401  # no session


def test_a_former_tenants_idp_cannot_sign_in_someone_who_left(idp: OIDCProvider, acme: dict[str, Any]) -> None:
    first = Client()
    assert acme_signs_in_jane(first, idp, acme).status_code == 302
    jane = SocialAccount.objects.get(uid="00u-jane").user
    # She leaves Acme, moves her account to her own address and becomes an admin at Globex.
    org_services.org_member_set(organization=acme["org"], user=jane, role=None)
    move_email(jane, PERSONAL)
    globex, _, (globex_org,) = make_tenant(name="Globex")
    add_member(globex_org, "admin", user=jane)

    logins = AuditEvent.objects.filter(action="user.login", actor_user_id=jane.pk)
    assert logins.count() == 1

    # Acme's IdP admin asserts her old subject again.
    attacker = Client()
    assert_refused(attacker, acme_signs_in_jane(attacker, idp, acme))
    assert logins.count() == 1
    # Audited under Acme with the address its IdP asserted (never her new one), and under
    # Globex, whose admins see that another tenant's IdP tried to sign her in.
    (at_acme,) = AuditEvent.objects.filter(action="user.login_failed", tenant=acme["tenant"])
    assert at_acme.changes["email"] == "jane@acme.test" and at_acme.changes["method"] == "sso"
    assert PERSONAL not in str(at_acme.changes)
    (at_globex,) = AuditEvent.objects.filter(action="user.login_failed", tenant=globex)
    assert at_globex.changes["method"] == "sso" and at_globex.target_id == jane.public_id


@pytest.mark.parametrize("change", ["her email moved out of the domain", "the tenant removed the domain"])
def test_the_idp_stops_where_the_tenants_verified_domains_stop(
    idp: OIDCProvider, acme: dict[str, Any], change: str
) -> None:
    assert acme_signs_in_jane(Client(), idp, acme).status_code == 302
    jane = SocialAccount.objects.get(uid="00u-jane").user  # still one of Acme's, in both cases
    if change == "her email moved out of the domain":
        move_email(jane, PERSONAL)
    else:
        domains.domain_remove(tenant_domain=TenantDomain.objects.get(tenant=acme["tenant"]), actor=None)
    client = Client()
    assert_refused(client, acme_signs_in_jane(client, idp, acme))


def test_a_member_linked_the_same_way_still_signs_in(idp: OIDCProvider, acme: dict[str, Any]) -> None:
    assert acme_signs_in_jane(Client(), idp, acme).status_code == 302
    jane = SocialAccount.objects.get(uid="00u-jane").user
    # A membership in another tenant does not matter while she is still one of Acme's.
    _, _, (globex_org,) = make_tenant(name="Globex")
    add_member(globex_org, "admin", user=jane)
    again = Client()
    assert acme_signs_in_jane(again, idp, acme).status_code == 302
    assert signed_in_as(again) == jane.public_id
    assert not AuditEvent.objects.filter(action="user.login_failed").exists()


def test_saml_a_former_tenants_idp_cannot_sign_in_someone_who_left() -> None:
    idp = SAMLIdP()
    acme, owner, (acme_org,) = make_tenant(name="Acme")
    config = sso.sso_config_save(
        tenant=acme,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": idp.entity_id,
            "idp_sso_url": idp.sso_url,
            "idp_x509_cert": idp.keys.cert_pem,
            "default_organization": acme_org,
            "default_role": "member",
        },
    )
    verified_domain(acme, "acme.test")

    def acme_asserts_jane(client: Client) -> Any:
        to_idp = client.post(sso.login_url(config))
        assert to_idp.status_code == 302 and to_idp["Location"].startswith(idp.sso_url), to_idp
        request = idp.read_request(to_idp["Location"])
        xml = idp.response(request, name_id="00u-jane", attributes={EMAIL_ATTR: "jane@acme.test"})
        return post_response(client, request.acs_url, xml)

    assert acme_asserts_jane(browser()).status_code == 302
    jane = SocialAccount.objects.get(uid="00u-jane").user
    org_services.org_member_set(organization=acme_org, user=jane, role=None)
    move_email(jane, PERSONAL)
    _, _, (globex_org,) = make_tenant(name="Globex")
    add_member(globex_org, "admin", user=jane)

    attacker = browser()
    assert_refused(attacker, acme_asserts_jane(attacker))
