"""SPEC §8 (an SSO identity is linked to an account only through the tenant's IdP; docs/accounts.md
Tenant SSO: a new IdP never inherits the old one's identities). The connection's provider id stays
across an IdP change and the old IdP's identities move to a retired one. A sign-in through the old
IdP that read the connection before the owner saved the new issuer, and finished after, must not
leave an identity of the old IdP under the live provider id: there, the new IdP asserting the same
subject would sign in as that person. The sign-in is refused; nothing of the old IdP stays linked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django.test import Client

from accounts import sso
from tater import outbound
from tests.accounts.conftest import verify_domain_via_dns
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import UserFactory, add_member, make_tenant, oidc_sso
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idps() -> Iterator[tuple[OIDCProvider, OIDCProvider]]:
    with OIDCProvider() as old, OIDCProvider() as new:
        yield old, new


def callback_url(client: Client, idp: OIDCProvider, email: str, sub: str) -> str:
    """Routed to the old IdP and back: the callback URL, not yet requested."""
    idp.claims = {"sub": sub, "email": email, "email_verified": True}
    routed = client.post("/accounts/login/", {"login": email, "password": "", "sso": "1"})
    start = client.post(routed["Location"])
    assert start.status_code == 302 and start["Location"].startswith(idp.issuer), start
    at_idp = urlparse(requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"])
    return f"{at_idp.path}?{at_idp.query}"


@pytest.mark.parametrize(
    ("who", "pause"),
    [
        ("newcomer", (outbound, "guard_session")),  # before its first round trip to the IdP
        ("linked member", (outbound, "guard_session")),
        ("linked member", (SocialAccount, "save")),  # allauth's lookup found her identity, saves it
    ],
)
def test_a_sign_in_through_the_old_idp_finishing_after_the_change_links_nothing(
    idps: tuple[OIDCProvider, OIDCProvider], dns: LoopbackDNS, who: str, pause: tuple[Any, str]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    old, new = idps
    tenant, owner, (org,) = make_tenant(name=f"Changing IdP {who} {pause[1]}", orgs=1)
    config = oidc_sso(tenant, owner, old)
    verify_domain_via_dns(dns, tenant, owner, "acme.test")
    email = "jane@acme.test"
    if who == "linked member":  # linked through the old IdP earlier
        jane = add_member(org, "member", UserFactory(email=email))
        SocialAccount.objects.create(user=jane, provider=config.provider_id, uid="00u-jane")
    client = Client()
    url = callback_url(client, old, email, "00u-jane")
    answers: list[Any] = []

    errors = while_held(
        soon(lambda: answers.append(client.get(url))),  # has read the old issuer, pauses
        soon(lambda: sso.sso_config_save(tenant=tenant, actor=owner, values={"issuer": new.issuer})),
        pause_in=pause,
        seconds=0.7,
    )

    assert errors == []
    live = sso.config_for_provider(config.provider_id)
    assert live is not None and live.issuer == new.issuer
    # No identity of the old IdP under the live provider id: the new IdP inherits nobody.
    assert not SocialAccount.objects.filter(provider=config.provider_id, uid="00u-jane").exists()
    assert answers[0].status_code == 403, answers[0].content[:500]
    assert "_auth_user_id" not in client.session
