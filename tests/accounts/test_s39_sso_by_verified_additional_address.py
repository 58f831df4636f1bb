"""SPEC §8: "Require SSO" counts every verified address an account holds (a member cannot leave
it behind by making a personal address primary), and since s39 a tenant that requires SSO of
a person is reached only by a session its own IdP signed in. But the tenant's IdP recognised an
account by its primary address only: Bob (primary bob@acme.test, verified bob@globex.test, a
member of both) signing in through Globex's IdP as bob@globex.test landed on the sign-up page
(the address is taken), so Globex was out of his reach altogether. The IdP now finds the
account holding the asserted address verified, when that account belongs to the tenant, and
signs it in again later while it still holds that address.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client

from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_sso_oidc import sso_sign_in
from tests.factories import UserFactory, add_member, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(globex_idp: OIDCProvider) -> dict[str, Any]:
    acme, _, (acme_org,) = make_tenant(name="Acme")
    globex, globex_owner, (globex_org,) = make_tenant(name="Globex")
    oidc_sso(globex, globex_owner, globex_idp, require_sso=True)
    verified_domain(acme, "acme.test")
    verified_domain(globex, "globex.test")
    bob = UserFactory(email="bob@acme.test")
    EmailAddress.objects.create(user=bob, email="bob@globex.test", verified=True, primary=False)
    add_member(acme_org, "member", bob)
    add_member(globex_org, "member", bob)
    return {"bob": bob, "acme_org": acme_org, "globex_org": globex_org}


def _reaches(client: Client, org: Any) -> int:
    return client.get("/api/v1/keys/", HTTP_X_WORKSPACE_ID=org.public_id).status_code


def test_bob_signs_in_through_globex_as_his_globex_address(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    users = get_user_model().objects.count()
    client = Client()
    done = sso_sign_in(client, globex_idp, "bob@globex.test", sub="00u-bob")
    assert done.status_code == 302 and "signup" not in done["Location"], done
    assert get_user_model().objects.count() == users  # no second account
    assert SocialAccount.objects.get(uid="00u-bob").user == world["bob"]
    assert _reaches(client, world["globex_org"]) == 200 and _reaches(client, world["acme_org"]) == 200
    # And again, with the identity now linked.
    again = Client()
    assert sso_sign_in(again, globex_idp, "bob@globex.test", sub="00u-bob").status_code == 302
    assert _reaches(again, world["globex_org"]) == 200


def test_an_unverified_additional_address_links_nothing(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    EmailAddress.objects.filter(email="bob@globex.test").update(verified=False)
    client = Client()
    sso_sign_in(client, globex_idp, "bob@globex.test", sub="00u-bob")
    assert not SocialAccount.objects.filter(uid="00u-bob", user=world["bob"]).exists()
