"""SPEC §8: a tenant that requires SSO is reached only through its own IdP (s39: also by
sessions already open). So an owner whose own address is in the tenant's verified domain,
signed in with a password, who turned "Require SSO" on (or verified their domain while it was
on) was shut out of their tenant by their own press, SSO settings included, before ever
testing that the IdP signs them in. As GitHub does before it enforces SAML SSO: the switch is
refused, saying to sign in through the tenant's single sign-on first; signed in through it,
the owner may turn it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from accounts.models import TenantDomain, TenantSSOConfig
from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_sso_oidc import sso_sign_in
from tests.factories import UserFactory, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db
SHUT_OUT = "would shut this session out of Initech"


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def initech(idp: OIDCProvider) -> dict[str, Any]:
    owner = UserFactory(email="olive@initech.test")
    tenant, owner, _ = make_tenant(name="Initech", owner=owner)
    oidc_sso(tenant, owner, idp)
    return {"tenant": tenant, "owner": owner}


def _switch_on(client: Client, tenant: Any, idp: OIDCProvider) -> Any:
    return client.post(
        "/accounts/sso/",
        {
            "tenant": tenant.public_id,
            "protocol": "oidc",
            "issuer": idp.issuer,
            "client_id": idp.client_id,
            "client_secret": "",
            "default_role": "member",
            "require_sso": "on",
            "is_active": "on",
        },
    )


def test_a_password_session_cannot_switch_its_owner_out(initech: dict[str, Any], idp: OIDCProvider) -> None:
    verified_domain(initech["tenant"], "initech.test")
    client = Client()
    client.force_login(initech["owner"])
    refused = _switch_on(client, initech["tenant"], idp)
    assert refused.status_code == 400
    assert SHUT_OUT in refused.content.decode()
    assert not TenantSSOConfig.objects.get(tenant=initech["tenant"]).require_sso
    assert client.get("/accounts/sso/", {"tenant": initech["tenant"].public_id}).status_code == 200


def test_signed_in_through_the_idp_the_owner_switches_it_on(initech: dict[str, Any], idp: OIDCProvider) -> None:
    verified_domain(initech["tenant"], "initech.test")
    client = Client()
    done = sso_sign_in(client, idp, "olive@initech.test", sub="sub-olive")
    assert done.status_code == 302, done.content[:500]
    switched = _switch_on(client, initech["tenant"], idp)
    assert switched.status_code == 302, switched.content[:2000]
    assert TenantSSOConfig.objects.get(tenant=initech["tenant"]).require_sso
    assert client.get("/accounts/sso/", {"tenant": initech["tenant"].public_id}).status_code == 200


def test_an_owner_outside_the_domain_switches_it_on_from_any_session(idp: OIDCProvider) -> None:
    tenant, owner, _ = make_tenant(name="Hooli")  # the owner's address is not Hooli's domain
    oidc_sso(tenant, owner, idp)
    verified_domain(tenant, "hooli.test")
    client = Client()
    client.force_login(owner)
    assert _switch_on(client, tenant, idp).status_code == 302
    assert TenantSSOConfig.objects.get(tenant=tenant).require_sso


def test_verifying_the_owners_domain_while_required_is_refused_from_a_password_session(
    initech: dict[str, Any], idp: OIDCProvider
) -> None:
    TenantSSOConfig.objects.filter(tenant=initech["tenant"]).update(require_sso=True)
    claim = TenantDomain.objects.create(tenant=initech["tenant"], domain="initech.test")
    client = Client()
    client.force_login(initech["owner"])
    answer = client.post(f"/accounts/sso/domains/{claim.pk}/verify/", follow=True)
    assert SHUT_OUT in answer.content.decode()
    claim.refresh_from_db()
    assert claim.verified_at is None
    assert client.get("/accounts/sso/", {"tenant": initech["tenant"].public_id}).status_code == 200
