"""Review s35: an address the tenant's identity provider asserts in a domain the tenant has
verified (SPEC §8) counts as verified; an address elsewhere does not."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from tests.factories import UserFactory, add_member
from tests.scim.conftest import patch_op, provision

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_an_address_created_in_a_verified_domain_is_verified(acme):
    provision(acme, "mia@acme.test")
    mia = User.objects.get(email="mia@acme.test")
    assert EmailAddress.objects.filter(user=mia, email="mia@acme.test", verified=True, primary=True).exists()


def test_a_linked_members_address_in_a_verified_domain_becomes_verified(acme):
    # A member is listed in the directory as they join: the IdP's User (pending until then)
    # is linked to them (review s36).
    mia = UserFactory(email="mia@acme.test")
    EmailAddress.objects.filter(user=mia).delete()
    EmailAddress.objects.create(user=mia, email="mia@acme.test", verified=False, primary=True)
    provision(acme, "mia@acme.test")
    add_member(acme.orgs[0], "member", mia)
    assert EmailAddress.objects.filter(user=mia, email="mia@acme.test", verified=True).exists()


def test_a_guests_address_is_not_verified_by_the_directory(acme):
    bob = UserFactory(email="bob@freemail.test")
    EmailAddress.objects.filter(user=bob).delete()
    EmailAddress.objects.create(user=bob, email="bob@freemail.test", verified=False, primary=True)
    provision(acme, "bob@freemail.test")
    add_member(acme.orgs[0], "member", bob)
    assert not EmailAddress.objects.filter(user=bob, verified=True).exists()


def test_a_moved_address_in_a_verified_domain_is_verified(acme):
    user_id = provision(acme, "mia@acme.test")["id"]
    r = acme.scim.patch(
        f"/Users/{user_id}", patch_op({"op": "replace", "path": "userName", "value": "mia.b@acme.test"})
    )
    assert r.status_code == 200, r.content
    mia = User.objects.get(email="mia.b@acme.test")
    assert list(EmailAddress.objects.filter(user=mia).values_list("email", "verified", "primary")) == [
        ("mia.b@acme.test", True, True)
    ]


def test_a_scim_created_account_can_be_added_to_an_org_directly(acme):
    provision(acme, "mia@acme.test")
    from orgs.members import member_add_by_email

    done = member_add_by_email(
        organization=acme.orgs[1], email="mia@acme.test", role="viewer", actor=acme.owner, accept_url=lambda t: t
    )
    assert done.result == "added"


def test_a_pending_guest_address_gets_an_invitation_not_a_direct_add(acme):
    bob = UserFactory(email="bob@freemail.test")
    EmailAddress.objects.filter(user=bob).update(verified=False)
    provision(acme, "bob@freemail.test")
    add_member(acme.orgs[0], "member", bob)
    from orgs.members import member_add_by_email

    done = member_add_by_email(
        organization=acme.orgs[1], email="bob@freemail.test", role="viewer", actor=acme.owner, accept_url=lambda t: t
    )
    assert done.result != "added"
