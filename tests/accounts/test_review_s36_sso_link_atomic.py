"""Linking an identity provider to one's own account and its ``user.sso_linked`` entry are
one unit (SPEC §7). When the entry cannot be written, no link is kept: an identity linked
without a record could sign in to the account with nobody able to see when it was added."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from audit import chain
from audit.models import AuditEvent
from tests.accounts.conftest import verify_domain_via_dns
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import PASSWORD, UserFactory, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db

real_link = chain.link


def _link_entry_fails(event: Any) -> Any:
    if event.action == "user.sso_linked":
        raise RuntimeError("audit store down")
    return real_link(event)


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def bob(idp: OIDCProvider, dns: LoopbackDNS) -> tuple[Any, Client, str]:
    """Acme's IdP speaks for acme.test; Bob (bob@acme.test) has his own account, outside
    Acme, signed in with his password: he may link Acme's IdP himself (SPEC §8)."""
    tenant, owner, (org,) = make_tenant(name="Acme")
    config = oidc_sso(tenant, owner, idp, default_organization=org, default_role="viewer")
    verify_domain_via_dns(dns, tenant, owner, "acme.test")
    user = UserFactory(email="bob@acme.test")
    make_tenant(name="Bob's team", owner=user)
    browser = Client(raise_request_exception=False)
    assert browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    idp.claims = {"sub": "00u-bob", "email": user.email, "email_verified": True}
    return user, browser, f"/accounts/oidc/{config.provider_id}/login/"


def _back_from_idp(browser: Client, start_url: str) -> Any:
    start = browser.post(start_url, {"process": "connect", "next": "/accounts/security/"})
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    return f"{callback.path}?{callback.query}"


def test_a_link_completed_on_the_password_page_is_not_kept_without_its_entry(bob: tuple[Any, Client, str]) -> None:
    user, browser, start_url = bob
    back = browser.get(_back_from_idp(browser, start_url))
    assert back.status_code == 302 and back["Location"].startswith("/accounts/reauthenticate/")
    with mock.patch("audit.chain.link", side_effect=_link_entry_fails):
        response = browser.post(back["Location"], {"password": PASSWORD})
    assert response.status_code == 500
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="user.sso_linked").exists()


def test_a_link_completed_by_the_idp_return_is_not_kept_without_its_entry(bob: tuple[Any, Client, str]) -> None:
    user, browser, start_url = bob
    # Re-authenticated a moment ago: the return from the IdP links at once.
    assert browser.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    callback = _back_from_idp(browser, start_url)
    with mock.patch("audit.chain.link", side_effect=_link_entry_fails):
        response = browser.get(callback)
    assert response.status_code == 500
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="user.sso_linked").exists()


def test_a_link_is_kept_with_its_entry(bob: tuple[Any, Client, str]) -> None:
    user, browser, start_url = bob
    assert browser.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = browser.get(_back_from_idp(browser, start_url))
    assert response.status_code == 302, response
    assert SocialAccount.objects.get(user=user).uid == "00u-bob"
    assert AuditEvent.objects.filter(action="user.sso_linked", target_id=str(user.public_id)).count() == 1
