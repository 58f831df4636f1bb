"""The members page reads an invited address as sign-up reads it (SPEC §8, NFKC): an address
typed in fullwidth forms is invited as its plain form instead of being "not a valid email",
and a verified additional address adds its account at once, as a primary one does."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_fullwidth_address_is_invited_as_its_plain_form(world: dict[str, Any], client_for: Any) -> None:
    r = client_for(world["owner"]).post(
        reverse("members"), {"invite-email": "ｎｅｗ@work.test", "invite-role": "member"}
    )
    assert r.status_code == 200  # the "invitation sent" page, with its link
    assert Invitation.objects.get().email == "new@work.test"
    assert "new@work.test" in r.content.decode()


def test_a_verified_second_address_adds_its_account(world: dict[str, Any], client_for: Any) -> None:
    kim = UserFactory(email="kim@home.test", verified=True)
    EmailAddress.objects.create(user=kim, email="kim@work.test", verified=True, primary=False)
    r = client_for(world["owner"]).post(reverse("members"), {"invite-email": "KIM@work.test", "invite-role": "member"})
    assert r.status_code == 302
    assert OrgMembership.objects.filter(organization=world["org1"], user=kim).exists()
    assert not Invitation.objects.exists()
