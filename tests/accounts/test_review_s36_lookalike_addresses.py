"""No two accounts hold one address under two spellings (SPEC §8).

Emails are compared after NFKC normalisation and case folding: ``straße@x.test``,
``strasse@x.test``, ``STRASSE@X.test`` and ``ｓｔｒａｓｓｅ@x.test`` are one address. allauth
checks an added address against the others lower-cased only, so account B could add (and
verify) ``strasse@x.test`` while account A held ``straße@x.test``: both would then be able to
accept the one invitation sent to that address. Every path that gives an account an address
(the email page, sign-up, SSO provisioning, the admin) refuses an address another account
holds under any spelling, with allauth's own "taken" message and nothing more.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client

from tests.accounts.test_sso_oidc import idp, sso_sign_in, tenant_sso  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TAKEN = "A user is already registered with this email address."
# (Django's forms take no "ß" in a local part: such an address arrives through SSO or SCIM.)
LOOK_ALIKES = ["strasse@x.test", "STRASSE@X.test", "ｓｔｒａｓｓｅ@x.test"]


def _reauthenticated(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


def _holder_with_additional(address: str = "straße@x.test") -> Any:
    holder = UserFactory(email="holder@y.test")
    EmailAddress.objects.create(user=holder, email=address, verified=True)
    return holder


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_the_email_page_refuses_an_address_another_account_holds_as_an_additional_one(spelling: str) -> None:
    _holder_with_additional()
    other = UserFactory(email="other@y.test")
    response = _reauthenticated(other).post("/accounts/email/", {"action_add": "", "email": spelling})
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert list(EmailAddress.objects.filter(user=other).values_list("email", flat=True)) == ["other@y.test"]


def test_the_email_page_refuses_a_look_alike_of_another_accounts_primary_without_showing_it() -> None:
    UserFactory(email="straße@x.test")
    other = UserFactory(email="other@y.test")
    response = _reauthenticated(other).post("/accounts/email/", {"action_add": "", "email": "strasse@x.test"})
    assert response.status_code == 200
    body = response.content.decode()
    assert TAKEN in body and "straße" not in body
    assert list(EmailAddress.objects.filter(user=other).values_list("email", flat=True)) == ["other@y.test"]


@pytest.mark.parametrize(
    ("held", "typed"),
    [("kim@bücher.test", "kim@xn--bcher-kva.test"), ("kim@xn--bcher-kva.test", "Kim@Bücher.test")],
)
def test_the_email_page_refuses_another_spelling_of_the_domain(held: str, typed: str) -> None:
    _holder_with_additional(held)
    other = UserFactory(email="other@y.test")
    response = _reauthenticated(other).post("/accounts/email/", {"action_add": "", "email": typed})
    assert TAKEN in response.content.decode()
    assert EmailAddress.objects.filter(user=other).count() == 1


def test_a_free_address_is_still_added_and_ones_own_in_another_spelling_is_a_duplicate() -> None:
    other = UserFactory(email="other@y.test")
    client = _reauthenticated(other)
    assert client.post("/accounts/email/", {"action_add": "", "email": "kim@bücher.test"}).status_code == 302
    assert EmailAddress.objects.filter(user=other, email="kim@bücher.test").exists()
    again = client.post("/accounts/email/", {"action_add": "", "email": "kim@xn--bcher-kva.test"})
    assert again.status_code == 200
    assert EmailAddress.objects.filter(user=other).count() == 2


@pytest.mark.parametrize("spelling", ["strasse@x.test", "ｓｔｒａｓｓｅ@x.test"])
def test_sign_up_refuses_an_address_another_account_holds_as_an_additional_one(spelling: str) -> None:
    _holder_with_additional()
    response = Client().post("/accounts/signup/", {"email": spelling, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    assert TAKEN in response.content.decode()
    assert not get_user_model().objects.filter(email_canonical="strasse@x.test").exists()


def test_sso_provisioning_refuses_an_address_another_account_holds_as_an_additional_one(
    idp: Any,  # noqa: F811
    tenant_sso: dict[str, Any],  # noqa: F811
) -> None:
    holder = _holder_with_additional("straße@acme.test")
    refused = sso_sign_in(Client(), idp, "strasse@acme.test", sub="00u-strasse")
    assert refused.status_code == 403
    assert not get_user_model().objects.filter(email_canonical="strasse@acme.test").exists()
    assert not SocialAccount.objects.exists()
    assert EmailAddress.objects.filter(email="straße@acme.test").get().user == holder


def test_the_admin_refuses_a_look_alike_of_another_accounts_address() -> None:
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    _holder_with_additional()
    person = UserFactory(email="sam@acme.test")
    admin = superuser_in_admin()
    response = admin.post("/admin/account/emailaddress/add/", {"user": person.pk, "email": "strasse@x.test"})
    assert response.status_code == 200
    assert not EmailAddress.objects.filter(user=person, email="strasse@x.test").exists()
    response = admin.post(
        "/admin/accounts/user/add/",
        {"email": "STRASSE@x.test", "password1": "a-Long-pass-1234", "password2": "a-Long-pass-1234"},
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(email_canonical="strasse@x.test").exists()
