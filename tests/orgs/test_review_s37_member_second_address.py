"""Adding a member by address (SPEC §8: "people are added directly only when their email is
verified"): a verified address is a verified address whether it is the person's primary one
or another they added, as GitHub finds a person by any verified email. An address an account
holds only as a verified additional address used to be treated as unknown: an invitation
mailed to the person instead of the membership. An address typed in fullwidth forms (as a
phone keyboard may) is the same address, as sign-up reads it (NFKC)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def add(api, world, email: str):
    url = f"/api/v1/organizations/{world['org1'].public_id}/members/"
    return api.post(url, {"email": email, "role": "member"}, format="json", HTTP_X_API_KEY=world["owner_raw"])


def kim(second: str, *, verified: bool):
    user = UserFactory(email="kim@home.test", verified=True)
    EmailAddress.objects.create(user=user, email=second, verified=verified, primary=False)
    return user


@pytest.mark.parametrize("typed", ["kim@work.test", "KIM@work.test", "ｋｉｍ@work.test"])
def test_a_verified_second_address_adds_its_account_directly(api, world, typed) -> None:
    person = kim("kim@work.test", verified=True)
    r = add(api, world, typed)
    assert r.status_code in (200, 201), r.content
    assert OrgMembership.objects.filter(organization=world["org1"], user=person).exists()
    assert not Invitation.objects.exists()


def test_an_unverified_second_address_gets_an_invitation_not_the_membership(api, world) -> None:
    person = kim("kim@work.test", verified=False)
    r = add(api, world, "kim@work.test")
    assert r.status_code in (200, 201, 202), r.content
    assert not OrgMembership.objects.filter(organization=world["org1"], user=person).exists()
    assert Invitation.objects.get().email == "kim@work.test"


def test_a_fullwidth_address_is_invited_as_its_plain_form(api, world, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = add(api, world, "ｎｅｗ@work.test")
    assert r.status_code in (200, 201, 202), r.content
    assert Invitation.objects.get().email == "new@work.test"
    assert [m.to for m in mail.outbox] == [["new@work.test"]]
