"""Review s36: the IdP provisioning an address another account already holds as one of its
additional addresses (any spelling) created a second account with it as its primary, so two
accounts held one address (SPEC §8 compares addresses after NFKC + case folding): both could
accept an invitation to it, and sign-ins of that spelling became ambiguous. The User stays
pending instead (no account is created, none is linked: the other account's address may be
unverified, and linking is its owner's decision)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from scim.models import ScimUser
from tests.factories import UserFactory
from tests.scim.conftest import provision

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("held", ["mia@acme.test", "MIA@acme.test"])
def test_an_address_another_account_holds_is_not_given_to_a_new_account(acme, held):
    other = UserFactory(email="someone@elsewhere.test")
    EmailAddress.objects.create(user=other, email=held.lower(), verified=True, primary=False)

    created = provision(acme, "mia@acme.test")

    assert not get_user_model().objects.filter(email__iexact="mia@acme.test").exists()
    assert ScimUser.objects.get(public_id=created["id"]).user is None
    assert not EmailAddress.objects.filter(email="mia@acme.test").exclude(user=other).exists()


@pytest.mark.parametrize("held", ["mia@acme.test", "MIA@acme.test"])
def test_an_address_an_outsider_holds_unverified_is_released_not_shared(acme, held):
    """Review s40: an unverified hold by an account outside the tenant proves nothing and no
    longer vetoes the tenant that verified the domain (test_review_s40_squatted_addresses.py);
    the address is still held by one account only."""
    other = UserFactory(email="someone@elsewhere.test")
    EmailAddress.objects.create(user=other, email=held.lower(), verified=False, primary=False)

    created = provision(acme, "mia@acme.test")

    account = ScimUser.objects.get(public_id=created["id"]).user
    assert account is not None and account.email == "mia@acme.test"
    assert not EmailAddress.objects.filter(user=other, email="mia@acme.test").exists()


def test_an_address_nobody_holds_still_gets_its_account(acme):
    created = provision(acme, "newcomer@acme.test")
    account = ScimUser.objects.get(public_id=created["id"]).user
    assert account is not None and account.email == "newcomer@acme.test"


def test_a_user_cannot_be_moved_to_an_address_another_account_holds(acme):
    # Verified: an outsider's unverified hold is released instead (review s40).
    other = UserFactory(email="someone@elsewhere.test")
    EmailAddress.objects.create(user=other, email="taken@acme.test", verified=True, primary=False)
    mia = provision(acme, "mia@acme.test")

    r = acme.scim.patch(
        f"/Users/{mia['id']}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "userName", "value": "TAKEN@acme.test"}],
        },
    )

    assert r.status_code == 409, r.content
    assert ScimUser.objects.get(public_id=mia["id"]).user.email == "mia@acme.test"
