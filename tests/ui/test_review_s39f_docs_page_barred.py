"""The API reference page (``/docs/api/``) offers "your ids" for the snippets: a picker of the
orgs the session reaches, with their tenant ids. A session barred from a tenant that requires
SSO of its user (signed in through another tenant's IdP) must not find that tenant's orgs and
ids there, as the org switcher leaves them out; signed in through the tenant's own IdP, they are
offered (SPEC §8 "requires SSO", §1; tests/accounts/test_review_s39_sso_other_tenant_idp.py)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import _signed_in, acme_idp, globex_idp, world
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "globex_idp", "world"]  # fixtures


def test_an_acme_session_is_not_offered_globex_ids(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    page = client.get("/docs/api/")
    assert page.status_code == 200
    body = page.content.decode()
    assert world["acme_org"].public_id in body
    assert world["globex_org"].public_id not in body
    assert world["globex"].public_id not in body
    assert "Globex" not in body


def test_a_globex_session_is_offered_both_tenants(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    carol = UserFactory(email="carol@globex.test")
    EmailAddress.objects.create(user=carol, email="carol@acme.test", verified=True, primary=False)
    add_member(world["acme_org"], "member", carol)
    add_member(world["globex_org"], "member", carol)
    client = Client()
    _signed_in(client, globex_idp, "carol@globex.test")
    body = client.get("/docs/api/").content.decode()
    assert world["acme_org"].public_id in body and world["globex_org"].public_id in body
